package dev.loraid.bench.djl;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.loraid.bench.harness.TorchCpu;

import java.io.PrintStream;

/**
 * {@link TorchCpu} through DJL's PyTorch engine (libtorch from the pytorch-native-cpu jar, no download; recipe
 * and pitfalls in pytorch-cpu-anchor.md). Inter-op threads are fixed by {@code -Dai.djl.pytorch.num_interop_threads}
 * before the engine starts (they cannot be changed later); intra-op threads are set here. Never touches bf16,
 * which aborts the JVM in DJL 0.36.
 */
public final class DjlTorchCpu implements TorchCpu {
    private NDManager manager;

    @Override
    public void start(int threads, PrintStream log) {
        Engine engine = Engine.getEngine("PyTorch");
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
    public void close() {
        if (manager != null) {
            manager.close();
        }
    }
}
