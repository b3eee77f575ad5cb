package dev.loraid.wan;

import dev.loraid.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Weights for any {@link WanConfig}, drawn from a seed: Linear weights N(0, 1/in), norms 1 + N(0, 0.1²), the rest N(0, 0.1²). */
public final class RandomWanWeights {
    private RandomWanWeights() {
    }

    /** Every weight of {@code c} (spec wan.md §3.2 keys), as F32. */
    public static Map<String, Tensor> of(WanConfig c, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        Map<String, Tensor> w = new LinkedHashMap<>();
        WanKeys.expectedShapes(c).forEach((key, shape) -> {
            boolean norm = key.contains("norm") && key.endsWith(".weight");
            double sd = key.endsWith(".weight") && shape.length == 2 && !norm ? 1 / Math.sqrt(shape[1]) : 0.1;
            float[] v = gaussian(rnd, shape).toFloatArray();
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((norm ? 1 : 0) + sd * v[i]);
            }
            w.put(key, Tensor.of(v, shape));
        });
        return w;
    }

    /** A standard normal F32 tensor of {@code shape}. */
    public static Tensor gaussian(SplittableRandom rnd, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return Tensor.of(v, shape);
    }
}
