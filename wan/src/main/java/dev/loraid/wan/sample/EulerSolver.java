package dev.loraid.wan.sample;

import dev.loraid.tensor.Tensor;

/** {@code vanilla}: x_{i+1} = x_i + (σ_{i+1} − σ_i)·v_i, with the step computed in float32 (spec training.md §6.4). */
final class EulerSolver implements FlowSolver {
    private final double[] sigmas;

    EulerSolver(FlowSchedule schedule) {
        this.sigmas = schedule.sigmas();
    }

    @Override
    public Tensor step(int i, Tensor x, Tensor v) {
        double dt = (float) (sigmas[i + 1] - sigmas[i]); // float32 σ table, float32 difference
        return Latents.combine(1.0, x, dt, v);
    }
}
