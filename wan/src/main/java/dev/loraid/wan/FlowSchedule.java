package dev.loraid.wan;

import java.util.Arrays;

/**
 * The σ grid and model timesteps of a flow-matching sampling run (spec wan.md §5.5): {@code sigmas} has
 * {@code steps + 1} entries ending at 0; step i moves from σ_i to σ_{i+1} and calls the model at
 * {@code timesteps[i]} (0..1000 scale). The shift {@code σ' = s·σ / (1 + (s − 1)·σ)} spends more steps at high noise.
 */
public record FlowSchedule(double[] sigmas, double[] timesteps) {

    public int steps() {
        return timesteps.length;
    }

    /** σ' = shift·σ / (1 + (shift − 1)·σ). */
    public static double shift(double sigma, double shift) {
        return shift * sigma / (1 + (shift - 1) * sigma);
    }

    /** UniPC (musubi's and official Wan's default): σ from linspace(0.999, 0, N+1) without its last point. */
    public static FlowSchedule unipc(int steps, double shift) {
        return truncated(linspace(0.999, 0, steps + 1, steps), shift);
    }

    /** DPM++: σ from linspace(1, 0, N+1) without its last point, so the first timestep is exactly 1000. */
    public static FlowSchedule dpmpp(int steps, double shift) {
        return truncated(linspace(1, 0, steps + 1, steps), shift);
    }

    /** Euler (FlowMatchDiscreteScheduler): σ = linspace(1, 0, N+1) shifted; timesteps σ·1000 as float32. */
    public static FlowSchedule euler(int steps, double shift) {
        double[] sigmas = linspace(1, 0, steps + 1, steps + 1);
        double[] t = new double[steps];
        for (int i = 0; i <= steps; i++) {
            sigmas[i] = shift(sigmas[i], shift);
            if (i < steps) {
                t[i] = (float) (sigmas[i] * 1000);
            }
        }
        return new FlowSchedule(sigmas, t);
    }

    /** Shifted σ with a final 0 appended; timesteps σ·1000 truncated to integers (int64 upstream). */
    private static FlowSchedule truncated(double[] base, double shift) {
        double[] sigmas = Arrays.copyOf(base, base.length + 1);
        double[] t = new double[base.length];
        for (int i = 0; i < base.length; i++) {
            sigmas[i] = shift(base[i], shift);
            t[i] = (long) (sigmas[i] * 1000);
        }
        return new FlowSchedule(sigmas, t);
    }

    /** The first {@code keep} points of numpy's linspace(from, to, n). */
    private static double[] linspace(double from, double to, int n, int keep) {
        if (n < 2) {
            throw new IllegalArgumentException("a schedule needs at least one step");
        }
        double[] out = new double[keep];
        double step = (to - from) / (n - 1);
        for (int i = 0; i < keep; i++) {
            out[i] = i == n - 1 ? to : from + i * step;
        }
        return out;
    }
}
