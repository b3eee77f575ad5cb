package dev.loraid.bench.train;

import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanKeys;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The operands of one training step, shared by both implementations: every weight of a Wan model (spec wan.md §3.2
 * keys) drawn with a fixed seed and rounded to BF16 (so the F32 copy PyTorch gets holds exactly the values of our BF16
 * weights; Linear weights N(0, 1/in), norms 1 + N(0, 0.1²), the rest N(0, 0.1²)), the clean latents [C, F, H, W],
 * the unpadded T5 states [textTokens, text_dim], the noise level and the LoRA hyper-parameters.
 */
public record TrainStepCase(WanConfig config, Map<String, float[]> weights, Map<String, long[]> shapes, long[] latentShape,
                            float[] latents, int textTokens, float[] t5, double sigma, double timestep, int rank,
                            double alpha, double lr, double weightDecay, double maxGradNorm) {

    public static TrainStepCase random(WanConfig c, long[] latentShape, int textTokens, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, float[]> weights = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        WanKeys.expectedShapes(c).forEach((key, shape) -> {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            boolean norm = key.contains("norm") && key.endsWith(".weight");
            double sd = key.endsWith(".weight") && shape.length == 2 && !norm ? 1 / Math.sqrt(shape[1]) : 0.1;
            float[] v = new float[Math.toIntExact(n)];
            for (int i = 0; i < v.length; i++) {
                v[i] = bf16((norm ? 1 : 0) + sd * rnd.nextGaussian());
            }
            weights.put(key, v);
            shapes.put(key, shape);
        });
        long n = 1;
        for (long d : latentShape) {
            n *= d;
        }
        float[] latents = new float[Math.toIntExact(n)];
        for (int i = 0; i < latents.length; i++) {
            latents[i] = bf16(rnd.nextGaussian());
        }
        float[] t5 = new float[textTokens * c.textDim()];
        for (int i = 0; i < t5.length; i++) {
            t5[i] = bf16(0.2 * rnd.nextGaussian());
        }
        return new TrainStepCase(c, weights, shapes, latentShape.clone(), latents, textTokens, t5, 0.6, 600.0, 32, 32.0,
                1e-4, 0.01, 1.0);
    }

    /** Tokens after the patch embedding. */
    public long tokens() {
        return latentShape[1] / config.patchT() * (latentShape[2] / config.patchH()) * (latentShape[3] / config.patchW());
    }

    /** The nearest BF16 value (round to nearest even), as a float. */
    static float bf16(double x) {
        int bits = Float.floatToRawIntBits((float) x);
        bits = (bits + 0x7FFF + ((bits >>> 16) & 1)) & 0xFFFF0000;
        return Float.intBitsToFloat(bits);
    }
}
