package dev.loraid.wan.sample;

/**
 * The σ table and the DiT timesteps of one sampling run (spec training.md §6.4, wan.md §5.5). {@code sigmas} has
 * {@code steps + 1} float32 values (held as doubles) ending at σ = 0; step i moves from σ_i to σ_{i+1} and calls the
 * model at {@code timesteps[i]} on the 0..1000 scale. The solver update uses the σ table, never t/1000.
 */
public record FlowSchedule(double[] sigmas, double[] timesteps) {

    public FlowSchedule {
        if (sigmas.length != timesteps.length + 1 || timesteps.length == 0) {
            throw new IllegalArgumentException("a schedule needs steps ≥ 1 timesteps and steps + 1 sigmas, got "
                    + timesteps.length + " and " + sigmas.length);
        }
    }

    public int steps() {
        return timesteps.length;
    }

    /** σ' = shift·σ / (1 + (shift − 1)·σ), in float64. */
    public static double shift(double sigma, double shift) {
        return shift * sigma / (1 + (shift - 1) * sigma);
    }

    /**
     * UniPC: s = numpy linspace(σ_max, 0, n+1)[:-1] with σ_max = float32(0.999) (the shift-1 training table's first
     * σ), shifted in float64; t = int64 truncation of σ'·1000 taken before σ' is rounded to float32 (§6.4).
     */
    public static FlowSchedule unipc(int steps, double shift) {
        return truncated(steps, (float) 0.999, shift);
    }

    /** DPM++: s = numpy linspace(1, 0, n+1)[:n], so σ_0 = 1 and t_0 = 1000; otherwise as {@link #unipc}. */
    public static FlowSchedule dpmpp(int steps, double shift) {
        return truncated(steps, 1.0, shift);
    }

    /**
     * Euler ({@code vanilla}, FlowMatchDiscreteScheduler): torch.linspace(1, 0, n+1) in float32, shifted with float32
     * arithmetic; t = float32(σ'·1000), not truncated.
     */
    public static FlowSchedule vanilla(int steps, double shift) {
        requireSteps(steps);
        double[] sigmas = new double[steps + 1];
        double[] t = new double[steps];
        float step = -1f / steps;
        float a = (float) shift;
        float b = (float) (shift - 1);
        for (int i = 0; i <= steps; i++) {
            // torch's CPU linspace: start + i·step for the first half, end − (n − i)·step for the second (one rounding)
            float s = i < (steps + 1) / 2 ? (float) (1.0 + i * (double) step) : (float) ((steps - i) * -(double) step);
            float shifted = (a * s) / (1f + b * s);
            sigmas[i] = shifted;
            if (i < steps) {
                t[i] = shifted * 1000f;
            }
        }
        return new FlowSchedule(sigmas, t);
    }

    private static FlowSchedule truncated(int steps, double start, double shift) {
        requireSteps(steps);
        double[] sigmas = new double[steps + 1];
        double[] t = new double[steps];
        double step = (0 - start) / steps; // numpy: start + i·((stop − start)/div)
        for (int i = 0; i < steps; i++) {
            double s = i * step + start;
            double shifted = shift(s, shift);
            t[i] = (long) (shifted * 1000);
            sigmas[i] = (float) shifted;
        }
        sigmas[steps] = 0;
        return new FlowSchedule(sigmas, t);
    }

    private static void requireSteps(int steps) {
        if (steps < 1) {
            throw new IllegalArgumentException("a schedule needs at least one step, got " + steps);
        }
    }
}
