package dev.loraid.bench.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.loraid.bench.clip.ClipCase;
import dev.loraid.bench.harness.BenchTensors;
import dev.loraid.bench.harness.TorchCpu;
import dev.loraid.tensor.DType;
import dev.loraid.wan.clip.ClipVisionConfig;

import java.util.HashMap;
import java.util.Map;

/**
 * Wan's CLIP vision tower (spec wan.md §5.4, upstream {@code VisionTransformer(..., use_31_block=True)}) written
 * independently of ours with DJL's NDArray ops in fp32, as upstream runs it on a CPU: the image cut into 14×14 patches
 * times the patch weight, the class token, positions, pre-norm, then every block but the last (pre-norm LayerNorms,
 * fused qkv split per head, matmul-softmax-matmul attention, proj, exact-erf GELU MLP). Each call's arrays live in a
 * sub-manager closed after it.
 */
final class DjlClip implements TorchCpu.OutputRun {
    private final NDManager manager;
    private final ClipVisionConfig c;
    private final Map<String, NDArray> w = new HashMap<>();
    private final float[] pixels;

    DjlClip(NDManager parent, ClipCase data) {
        this.manager = parent.newSubManager();
        this.c = data.config();
        this.pixels = data.pixels();
        data.weights().forEach((k, t) -> {
            // fp32, as upstream runs CLIP on a CPU (the F16 file weights widened exactly)
            NDArray a = manager.create(BenchTensors.floats(t.to(DType.F32)), new Shape(t.shape().toArray()));
            // Linear weights kept transposed, [in, out], so that every product reads x.matMul(wT)
            w.put(k, t.rank() == 2 && k.startsWith("transformer.") ? a.transpose() : a);
        });
    }

    @Override
    public void run() {
        step(false);
    }

    @Override
    public float[] output() {
        return step(true);
    }

    private float[] step(boolean read) {
        try (NDManager call = manager.newSubManager()) {
            int d = c.dim();
            int p = c.patch();
            int side = c.imageSize() / p;
            NDArray img = call.create(pixels, new Shape(3, c.imageSize(), c.imageSize()));
            // [3, n, p, n, p] → [n, n, 3, p, p] → [n², 3·p²], times the conv weight [D, 3·p²]ᵀ
            NDArray patches = img.reshape(3, side, p, side, p).transpose(1, 3, 0, 2, 4).reshape((long) side * side, 3L * p * p);
            NDArray tokens = patches.matMul(w.get("patch_embedding.weight").reshape(d, 3L * p * p).transpose());
            NDArray x = w.get("cls_embedding").reshape(1, d).concat(tokens, 0).add(w.get("pos_embedding").reshape(c.tokens(), d));
            x = norm(x, "pre_norm");
            for (int i = 0; i < c.layers() - 1; i++) {
                String b = "transformer." + i + ".";
                NDArray qkv = linear(norm(x, b + "norm1"), b + "attn.to_qkv");
                long l = c.tokens();
                int heads = c.heads();
                long hd = d / heads;
                NDArray split = qkv.reshape(l, 3, heads, hd).transpose(1, 2, 0, 3); // [3, H, L, hd]
                NDArray q = split.get(0);
                NDArray k = split.get(1);
                NDArray v = split.get(2);
                NDArray probs = q.matMul(k.transpose(0, 2, 1)).div(Math.sqrt(hd)).softmax(-1);
                NDArray a = probs.matMul(v).transpose(1, 0, 2).reshape(l, d);
                x = x.add(linear(a, b + "attn.proj"));
                NDArray h = linear(norm(x, b + "norm2"), b + "mlp.0");
                h = h.mul(h.div(Math.sqrt(2)).erf().add(1)).mul(0.5);
                x = x.add(linear(h, b + "mlp.2"));
            }
            return read ? x.toFloatArray() : null;
        }
    }

    private NDArray linear(NDArray x, String name) {
        return x.matMul(w.get(name + ".weight")).add(w.get(name + ".bias"));
    }

    /** LayerNorm over the last axis with weight and bias, eps 1e-5. */
    private NDArray norm(NDArray x, String name) {
        NDArray mean = x.mean(new int[] {-1}, true);
        NDArray centred = x.sub(mean);
        NDArray var = centred.square().mean(new int[] {-1}, true);
        return centred.div(var.add(ClipVisionConfig.EPS).sqrt()).mul(w.get(name + ".weight")).add(w.get(name + ".bias"));
    }

    @Override
    public void close() {
        manager.close();
    }
}
