package dev.loraid.wan.sample;

import dev.loraid.tensor.Tensor;

import java.util.Objects;

/**
 * The velocity the solver sees (training.md §6.4, §6.5): classifier-free guidance v = v_u + g·(v_c − v_u), both
 * passes evaluated on every step where CFG applies (even at g = 1), skip-layer guidance, and Wan 2.2 A14B routing.
 * With a boundary the run starts on the high-noise expert with its own guidance scale and switches once, at the first
 * step whose integer timestep has t/1000 &lt; boundary, to the low-noise expert and its scale; it never switches back.
 */
public final class GuidedVelocity implements Velocity {
    /** One expert: its DiT passes and its guidance scale. */
    public record Expert(String name, Denoiser denoiser, double guidanceScale) {
    }

    /** Told once when the run moves to the low-noise expert (to release or offload the high-noise one). */
    @FunctionalInterface
    public interface SwitchListener {
        SwitchListener NONE = (step, t) -> { };

        void switchedToLowNoise(int step, double t);
    }

    private final Expert high;
    private final Expert low;
    private final Double boundary;
    private final boolean[] cfgApplied;
    private final SkipLayerGuidance slg;
    private final int steps;
    private final SwitchListener listener;
    private boolean onHigh;

    /**
     * @param high       the high-noise expert, or null for a single DiT
     * @param low        the (only, or low-noise) expert
     * @param boundary   the switch point on the 0..1 scale, null without a high-noise expert
     * @param cfgApplied per step, whether CFG runs ({@link CfgSkipMode#applied})
     */
    public GuidedVelocity(Expert high, Expert low, Double boundary, boolean[] cfgApplied, SkipLayerGuidance slg,
                          SwitchListener listener) {
        if ((high == null) != (boundary == null)) {
            throw new IllegalArgumentException("a high-noise expert needs a timestep boundary and the reverse");
        }
        this.high = high;
        this.low = Objects.requireNonNull(low, "low-noise expert");
        this.boundary = boundary;
        this.cfgApplied = cfgApplied.clone();
        this.slg = slg;
        this.steps = cfgApplied.length;
        this.listener = listener;
        this.onHigh = high != null;
    }

    /** The expert that step i at timestep t uses, switching when t/1000 falls below the boundary (§6.5). */
    public Expert expertAt(int i, double t) {
        if (onHigh && t / 1000.0 < boundary) {
            onHigh = false;
            listener.switchedToLowNoise(i, t);
        }
        return onHigh ? high : low;
    }

    @Override
    public Tensor at(Tensor x, int step, double t, double sigma) {
        Expert e = expertAt(step, t);
        Denoiser d = e.denoiser();
        Tensor vc = d.predict(x, t, Denoiser.Branch.COND);
        if (!cfgApplied[step]) {
            return vc;
        }
        boolean skipLayers = slg.activeAt(step, steps);
        if (skipLayers && slg.mode() == SkipLayerGuidance.Mode.UNCOND) {
            return cfg(vc, d.predict(x, t, Denoiser.Branch.UNCOND_SKIPPED), e.guidanceScale());
        }
        Tensor guided = cfg(vc, d.predict(x, t, Denoiser.Branch.UNCOND), e.guidanceScale());
        if (skipLayers) {
            return slgOriginal(guided, vc, d.predict(x, t, Denoiser.Branch.UNCOND_SKIPPED), slg.scale());
        }
        return guided;
    }

    /** v_u + g·(v_c − v_u), as (1 − g)·v_u + g·v_c. */
    public static Tensor cfg(Tensor vc, Tensor vu, double g) {
        Tensor u = vu.to(vc.device()).to(vc.dtype());
        return Latents.combine(1 - g, u, g, vc);
    }

    /** SD3's skip-layer term: v + scale·(v_c − v_skip). */
    public static Tensor slgOriginal(Tensor v, Tensor vc, Tensor vSkip, double scale) {
        Tensor s = vSkip.to(vc.device()).to(vc.dtype());
        return Latents.combine(1.0, v, scale, vc, -scale, s);
    }
}
