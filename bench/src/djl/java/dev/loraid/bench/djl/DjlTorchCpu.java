package dev.loraid.bench.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.loraid.bench.harness.TorchCpu;
import dev.loraid.bench.train.TrainStepCase;
import dev.loraid.bench.umt5.Umt5LayerCase;
import dev.loraid.bench.vae.VaeEncodeCase;
import dev.loraid.bench.wanblock.WanBlockCase;

import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * {@link TorchCpu} through DJL's PyTorch engine (libtorch from the pytorch-native-cpu jar, no download; recipe
 * and pitfalls in pytorch-cpu-anchor.md). Inter-op threads are fixed by {@code -Dai.djl.pytorch.num_interop_threads}
 * before the engine starts (they cannot be changed later); intra-op threads are set here. Never touches bf16,
 * which aborts the JVM in DJL 0.36.
 */
public final class DjlTorchCpu implements TorchCpu {
    private NDManager manager;
    private PrintStream log;
    private DjlSdpa sdpa;

    @Override
    public void start(int threads, PrintStream log) {
        Engine engine = Engine.getEngine("PyTorch");
        this.log = log;
        JniUtils.setNumThreads(threads);
        manager = NDManager.newBaseManager();
        log.printf("pytorch: %s %s through DJL %s, %d intra-op threads%n", engine.getEngineName(),
            engine.getVersion(), Engine.getDjlVersion(), JniUtils.getNumThreads());
    }

    @Override
    public Workload matmul(int m, int k, int n) {
        NDManager sub = manager.newSubManager();
        NDArray a = sub.randomNormal(new Shape(m, k));
        NDArray b = sub.randomNormal(new Shape(k, n));
        return new Workload() {
            @Override
            public void run() {
                a.matMul(b).close();
            }

            @Override
            public void close() {
                sub.close();
            }
        };
    }

    @Override
    public float[] matmul(float[] a, float[] b, int m, int k, int n) {
        try (NDManager sub = manager.newSubManager()) {
            NDArray c = sub.create(a, new Shape(m, k)).matMul(sub.create(b, new Shape(k, n)));
            return c.toFloatArray();
        }
    }

    @Override
    public Workload attention(int tokens, int heads, int headDim) {
        NDManager sub = manager.newSubManager();
        NDArray q = sub.randomNormal(new Shape(heads, tokens, headDim));
        NDArray k = sub.randomNormal(new Shape(heads, tokens, headDim));
        NDArray v = sub.randomNormal(new Shape(heads, tokens, headDim));
        float scale = (float) (1 / Math.sqrt(headDim));
        return new Workload() {
            @Override
            public void run() {
                // each intermediate is closed at once: the [heads, tokens, tokens] scores are 805 MB at 4096 tokens
                try (NDArray kt = k.transpose(0, 2, 1); NDArray s = q.matMul(kt); NDArray scaled = s.mul(scale);
                     NDArray p = scaled.softmax(-1); NDArray o = p.matMul(v)) {
                    o.getShape();
                }
            }

            @Override
            public void close() {
                sub.close();
            }
        };
    }

    @Override
    public Workload fusedAttention(int tokens, int heads, int headDim) {
        NDManager sub = manager.newSubManager();
        NDArray q = DjlSdpa.headsView(sub, null, tokens, heads, headDim);
        NDArray k = DjlSdpa.headsView(sub, null, tokens, heads, headDim);
        NDArray v = DjlSdpa.headsView(sub, null, tokens, heads, headDim);
        sdpa().logBackend(q, k, v, log);
        return new Workload() {
            @Override
            public void run() {
                sdpa().attend(q, k, v, sub).close();
            }

            @Override
            public void close() {
                sub.close();
            }
        };
    }

    @Override
    public float[] fusedAttention(float[] q, float[] k, float[] v, int tokens, int heads, int headDim) {
        try (NDManager sub = manager.newSubManager()) {
            NDArray o = sdpa().attend(DjlSdpa.headsView(sub, q, tokens, heads, headDim),
                DjlSdpa.headsView(sub, k, tokens, heads, headDim), DjlSdpa.headsView(sub, v, tokens, heads, headDim), sub);
            // [1, heads, tokens, headDim] back to the operands' [tokens, heads, headDim] order
            return o.transpose(0, 2, 1, 3).toFloatArray();
        }
    }

    /** The TorchScript SDPA module, loaded on first use. */
    private DjlSdpa sdpa() {
        if (sdpa == null) {
            sdpa = new DjlSdpa(manager);
        }
        return sdpa;
    }

    @Override
    public Workload linearTrain(int tokens, int in, int out, int rank) {
        NDManager sub = manager.newSubManager();
        NDArray x = sub.randomNormal(new Shape(tokens, in));
        NDArray w = sub.randomNormal(new Shape(out, in));
        NDArray down = sub.randomNormal(new Shape(rank, in)).mul(1 / Math.sqrt(in));
        NDArray up = sub.randomNormal(new Shape(out, rank)).mul(0.01);
        NDArray dy = sub.randomNormal(new Shape(tokens, out));
        return new Workload() {
            @Override
            public void run() {
                // every intermediate is closed at once, as PyTorch frees them when the graph is released
                try (NDArray wt = w.transpose(); NDArray downT = down.transpose(); NDArray upT = up.transpose();
                     NDArray h = x.matMul(downT); NDArray yBase = x.matMul(wt); NDArray yLora = h.matMul(upT);
                     NDArray y = yBase.add(yLora);
                     NDArray dyT = dy.transpose(); NDArray dUp = dyT.matMul(h); NDArray dh = dy.matMul(up);
                     NDArray dhT = dh.transpose(); NDArray dDown = dhT.matMul(x);
                     NDArray dxBase = dy.matMul(w); NDArray dxLora = dh.matMul(down); NDArray dx = dxBase.add(dxLora)) {
                    y.getShape();
                    dUp.getShape();
                    dDown.getShape();
                    dx.getShape();
                }
            }

            @Override
            public void close() {
                sub.close();
            }
        };
    }

    @Override
    public void loraMerge(MemorySegment w, MemorySegment up, MemorySegment down, int out, int in, int rank, float scale) {
        try (NDManager sub = manager.newSubManager()) {
            NDArray weight = sub.create(w.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN), new Shape(out, in), DataType.FLOAT32);
            NDArray u = sub.create(up.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN), new Shape(out, rank), DataType.FLOAT32);
            NDArray d = sub.create(down.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN), new Shape(rank, in), DataType.FLOAT32);
            weight.addi(u.matMul(d).muli(scale));
            MemorySegment.copy(MemorySegment.ofBuffer(weight.toByteBuffer()), 0, w, 0, (long) out * in * Float.BYTES);
        }
    }

    @Override
    public BlockRun wanBlock(WanBlockCase c) {
        return new DjlWanBlock(manager, c);
    }

    @Override
    public TrainRun wanTrainStep(TrainStepCase c, dev.loraid.core.lora.NetworkModule module) {
        return new DjlWanTrainStep(manager, c, module);
    }

    @Override
    public SampleRun wanSample(TrainStepCase c, float[] negativeT5, int steps, double shift, double guidance) {
        return new DjlWanSample(manager, c, negativeT5, steps, shift, guidance);
    }

    @Override
    public OutputRun vaeEncode(VaeEncodeCase c) {
        return new DjlVaeEncoder(manager, c);
    }

    @Override
    public OutputRun umt5Layer(Umt5LayerCase c) {
        return new DjlUmt5(manager, c);
    }

    @Override
    public OutputRun clipVision(dev.loraid.bench.clip.ClipCase c) {
        return new DjlClip(manager, c);
    }

    @Override
    public void close() {
        if (sdpa != null) {
            sdpa.close();
        }
        if (manager != null) {
            manager.close();
        }
    }
}
