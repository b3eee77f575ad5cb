package dev.loraid.wan;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;

import java.util.function.DoubleFunction;

/**
 * The Euler flow sampler (spec wan.md §5.5): {@code x ← x + (σ_{i+1} − σ_i)·v} in fp32 over a {@link FlowSchedule},
 * with classifier-free guidance {@code v = v_uncond + g·(v_cond − v_uncond)} and, for Wan 2.2 A14B, the expert and
 * guidance scale of each step's timestep.
 */
public final class EulerSampler {
    /** The model's velocity at latent x and timestep t, for the positive or the negative prompt. */
    @FunctionalInterface
    public interface Velocity {
        Tensor at(Tensor x, double t, boolean negativePrompt);
    }

    /** Guidance scale at timestep t (A14B: per expert; otherwise constant). */
    @FunctionalInterface
    public interface Guidance {
        double at(double t);
    }

    private EulerSampler() {
    }

    /**
     * Integrates from {@code noise} (the latent at σ_0) to σ = 0. A guidance of 1 skips the negative pass.
     *
     * @return the final latent, F32, outside any memory scope
     */
    public static Tensor sample(FlowSchedule schedule, Tensor noise, Velocity model, Guidance guidance) {
        Tensor x;
        try (MemoryScope outside = MemoryScope.suspend()) {
            x = noise.to(DType.F32).copy();
        }
        double[] s = schedule.sigmas();
        for (int i = 0; i < schedule.steps(); i++) {
            double t = schedule.timesteps()[i];
            double g = guidance.at(t);
            try (MemoryScope step = MemoryScope.open()) {
                // the latent stays on the device of the noise; a model elsewhere returns its velocity there
                Tensor v = model.at(x, t, false).to(x.device()).to(DType.F32);
                if (g != 1.0) {
                    Tensor uncond = model.at(x, t, true).to(x.device()).to(DType.F32);
                    Tensor guided = Tensor.empty(x.device(), DType.F32, x.shape().toArray());
                    x.backend().addScaled(v, g, uncond, 1.0 - g, guided); // vu + g·(vc − vu)
                    v = guided;
                }
                x.backend().addScaled(x, 1.0, v, s[i + 1] - s[i], x);
            }
        }
        return x;
    }

    /**
     * The velocity of a Wan DiT (or, with {@code experts}, of the A14B expert for each t) for a prompt's context
     * and a negative prompt's context; {@code y} and {@code clip} (I2V) go into both passes (§5.5).
     */
    public static Velocity wan(DoubleFunction<WanModel> modelFor, Tensor context, Tensor negative, Tensor y,
                               Tensor clip) {
        return (x, t, neg) -> modelFor.apply(t).forward(new WanInputs(x, Tensor.of(new float[] {(float) t}, 1),
                neg ? negative : context, y, clip));
    }
}
