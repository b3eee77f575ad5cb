package dev.loraid.wan;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

/**
 * The sinusoidal timestep features (spec wan.md §2.3, pitfall 1): {@code [cos(t·ω_j) | sin(t·ω_j)]} with
 * {@code ω_j = 10000^(−j/half)}, computed in float64 as upstream does.
 */
public final class Sinusoid {
    private static final double THETA = 10000.0;

    private Sinusoid() {
    }

    /** Row-major [t.length, freqDim] in float64. */
    public static double[] features(double[] t, int freqDim) {
        int half = freqDim / 2;
        double[] out = new double[t.length * freqDim];
        for (int j = 0; j < half; j++) {
            double omega = Math.pow(THETA, -((double) j / half));
            for (int r = 0; r < t.length; r++) {
                double arg = t[r] * omega;
                out[r * freqDim + j] = Math.cos(arg);
                out[r * freqDim + half + j] = Math.sin(arg);
            }
        }
        return out;
    }

    /** [t.length, freqDim] in {@code dtype} (F32 as upstream, or F64 for gradient checks). */
    public static Tensor tensor(double[] t, int freqDim, DType dtype) {
        return Tensor.ofDoubles(features(t, freqDim), t.length, freqDim).to(dtype);
    }
}
