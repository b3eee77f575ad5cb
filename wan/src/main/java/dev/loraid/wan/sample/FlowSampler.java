package dev.loraid.wan.sample;

import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;

/** The sampling loop: a {@link FlowSolver} driven over a {@link FlowSchedule} by a {@link Velocity}. */
public final class FlowSampler {
    /** Told after each finished step (progress). */
    @FunctionalInterface
    public interface StepListener {
        StepListener NONE = (done, total) -> { };

        void stepDone(int done, int total);
    }

    private FlowSampler() {
    }

    /**
     * Integrates from {@code noise} (the latent at σ_0) to σ = 0. The latent keeps the noise's dtype and device (F32
     * for generation; F64 in convergence tests); each step's velocity is brought to them.
     *
     * @return the final latent, outside any memory scope
     */
    public static Tensor sample(SolverKind kind, FlowSchedule schedule, Tensor noise, Velocity velocity,
                                StepListener listener) {
        FlowSolver solver = kind.start(schedule);
        Tensor x = Latents.keep(noise);
        for (int i = 0; i < schedule.steps(); i++) {
            try (MemoryScope step = MemoryScope.open()) {
                Tensor v = velocity.at(x, i, schedule.timesteps()[i], schedule.sigmas()[i]);
                v = v.to(x.device()).to(x.dtype());
                Tensor next = solver.step(i, x, v);
                x.backend().copy(next, x);
            }
            listener.stepDone(i + 1, schedule.steps());
        }
        return x;
    }
}
