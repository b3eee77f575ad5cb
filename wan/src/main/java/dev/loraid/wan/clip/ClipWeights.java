package dev.loraid.wan.clip;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random weights of a CLIP vision tower in Wan's names (without {@code visual.}), every tensor of the file including
 * the last block, {@code post_norm} and {@code head} that Wan does not run (no checkpoint needed: tests, a tiny tower
 * for the CLI, benchmarks): Linear and embedding weights uniform in ±1/√in in the given dtype (F32, as Wan's 4.77 GB
 * file stores them, unless told otherwise); norm weights 1 ± 0.1 and biases small, F32. The same for a seed.
 */
public final class ClipWeights {
    private ClipWeights() {
    }

    public static Map<String, Tensor> random(ClipVisionConfig c, long seed) {
        return random(c, seed, DType.F32);
    }

    /** With the Linear, patch and embedding weights in {@code dtype} (e.g. F16, as a half-precision conversion has them). */
    public static Map<String, Tensor> random(ClipVisionConfig c, long seed, DType dtype) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, Tensor> w = new LinkedHashMap<>();
        int d = c.dim();
        int p = c.patch();
        w.put("patch_embedding.weight", uniform(r, 1 / Math.sqrt(3.0 * p * p), 0, dtype, d, 3, p, p));
        w.put("cls_embedding", uniform(r, 0.5, 0, dtype, 1, 1, d));
        w.put("pos_embedding", uniform(r, 0.5, 0, dtype, 1, c.tokens(), d));
        norm(w, r, "pre_norm", d);
        for (int i = 0; i < c.layers(); i++) {
            String b = "transformer." + i + ".";
            norm(w, r, b + "norm1", d);
            linear(w, r, b + "attn.to_qkv", d, 3L * d, dtype);
            linear(w, r, b + "attn.proj", d, d, dtype);
            norm(w, r, b + "norm2", d);
            linear(w, r, b + "mlp.0", d, c.mlpDim(), dtype);
            linear(w, r, b + "mlp.2", c.mlpDim(), d, dtype);
        }
        norm(w, r, "post_norm", d);
        w.put("head", uniform(r, 1 / Math.sqrt(d), 0, dtype, d, d));
        return w;
    }

    private static void norm(Map<String, Tensor> w, SplittableRandom r, String name, long dim) {
        w.put(name + ".weight", uniform(r, 0.1, 1, DType.F32, dim));
        w.put(name + ".bias", uniform(r, 0.1, 0, DType.F32, dim));
    }

    private static void linear(Map<String, Tensor> w, SplittableRandom r, String name, long in, long out, DType dtype) {
        w.put(name + ".weight", uniform(r, 1 / Math.sqrt(in), 0, dtype, out, in));
        w.put(name + ".bias", uniform(r, 0.1, 0, DType.F32, out));
    }

    private static Tensor uniform(SplittableRandom r, double scale, double shift, DType dtype, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (shift + (r.nextDouble() * 2 - 1) * scale);
        }
        return Tensor.of(v, shape).to(dtype);
    }
}
