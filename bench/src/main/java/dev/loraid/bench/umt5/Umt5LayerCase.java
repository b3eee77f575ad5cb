package dev.loraid.bench.umt5;

import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.text.Umt5Config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The operands of {@code bench/run umt5}, shared by both implementations: a UMT5-XXL-shaped encoder with one layer
 * (dim 4096, dim_attn 4096, ffn 10240, 64 heads, 32 buckets, max distance 128, per-layer position table) and a small
 * vocabulary (the [256384, 4096] table would be 4 GiB of fp32 for a lookup that costs nothing), random fp32 weights
 * (Linears N(0, 1/in), norms 1 + N(0, 0.1²), embeddings and position table N(0, 1)), and {@code tokens} random ids,
 * all real (mask 1).
 */
public record Umt5LayerCase(Umt5Config config, Map<String, Tensor> weights, long[] ids) {
    public static final int VOCAB = 1024;

    public static Umt5LayerCase random(int tokens, long seed) {
        Umt5Config x = Umt5Config.UMT5_XXL;
        Umt5Config c = new Umt5Config(VOCAB, x.dim(), x.dimAttn(), x.ffnDim(), x.numHeads(), 1, x.numBuckets(),
            x.maxDistance(), false, x.eps());
        Map<String, Tensor> w = new LinkedHashMap<>();
        long[] s = {seed};
        c.expectedShapes().forEach((key, shape) -> {
            Tensor t = Tensor.empty(DType.F32, shape);
            t.backend().randomNormal(t, s[0]++, 0);
            if (key.endsWith("norm1.weight") || key.endsWith("norm2.weight") || key.equals("norm.weight")) {
                t.backend().binaryScalar(BinaryOp.MUL, t, 0.1, t);
                t.backend().binaryScalar(BinaryOp.ADD, t, 1, t);
            } else if (shape.length == 2 && !key.contains("embedding")) {
                t.backend().binaryScalar(BinaryOp.MUL, t, 1 / Math.sqrt(shape[1]), t);
            }
            w.put(key, t);
        });
        SplittableRandom rnd = new SplittableRandom(seed);
        long[] ids = new long[tokens];
        for (int i = 0; i < tokens; i++) {
            ids[i] = rnd.nextInt(VOCAB);
        }
        return new Umt5LayerCase(c, w, ids);
    }

    public int tokens() {
        return ids.length;
    }

    /**
     * Nominal FLOPs of the layer (matrix products only): q, k, v, o {@code 2·L·D·Da} each, scores and probabilities
     * times v {@code 4·L²·Da}, the gated FFN {@code 3 · 2·L·D·F}.
     */
    public double flops() {
        double l = tokens();
        double d = config.dim();
        double da = config.dimAttn();
        double f = config.ffnDim();
        return 8 * l * d * da + 4 * l * l * da + 6 * l * d * f;
    }
}
