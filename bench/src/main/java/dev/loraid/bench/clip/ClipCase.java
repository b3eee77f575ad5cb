package dev.loraid.bench.clip;

import dev.loraid.tensor.Tensor;
import dev.loraid.wan.clip.ClipVisionConfig;
import dev.loraid.wan.clip.ClipWeights;

import java.util.Map;
import java.util.SplittableRandom;

/**
 * The operands of {@code bench/run clip}, shared by both implementations: Wan's CLIP vision tower at its real width
 * (ViT-H/14: dim 1280, 16 heads, MLP 5120, 257 tokens) with {@code layers} blocks, of which Wan runs all but the last;
 * random weights ({@link ClipWeights}: F32, as Wan's file holds them), and random preprocessed pixels [3, 224, 224].
 */
public record ClipCase(ClipVisionConfig config, Map<String, Tensor> weights, float[] pixels) {

    public static ClipCase random(int layers, long seed) {
        ClipVisionConfig h = ClipVisionConfig.VIT_H_14;
        ClipVisionConfig c = new ClipVisionConfig(h.dim(), layers, h.heads(), h.mlpDim(), h.patch(), h.imageSize());
        SplittableRandom r = new SplittableRandom(seed);
        float[] px = new float[3 * c.imageSize() * c.imageSize()];
        for (int i = 0; i < px.length; i++) {
            px[i] = (float) (r.nextDouble() * 4 - 2);
        }
        return new ClipCase(c, ClipWeights.random(c, seed), px);
    }

    /**
     * Nominal FLOPs of the run blocks and the patch embedding (matrix products only): per block qkv {@code 6·T·D²}, proj
     * {@code 2·T·D²}, scores and probabilities times v {@code 4·T²·D}, MLP {@code 4·T·D·M}; patches {@code 2·256·588·D}.
     */
    public double flops() {
        double t = config.tokens();
        double d = config.dim();
        double m = config.mlpDim();
        double p = (double) (config.imageSize() / config.patch()) * (config.imageSize() / config.patch());
        return config.usedLayers() * (8 * t * d * d + 4 * t * t * d + 4 * t * d * m) + 2 * p * 3 * config.patch() * config.patch() * d;
    }
}
