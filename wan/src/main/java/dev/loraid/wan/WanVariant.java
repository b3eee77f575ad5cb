package dev.loraid.wan;

import java.util.List;

/**
 * A released Wan model (spec wan.md §1.1, §1.2): its DiT config, its experts and the pipeline defaults that go
 * with it. Wan 2.2 A14B ships two DiTs of the same config: {@code high_noise_model} runs while
 * {@code t/1000 ≥ boundary}, {@code low_noise_model} afterwards.
 *
 * @param experts         empty for single-DiT variants, else {@code [high_noise_model, low_noise_model]}
 * @param boundary        A14B switch point on the 0..1 scale; 0 when there is a single DiT
 * @param guidanceLow     guidance scale (of the low-noise expert for A14B; musubi's tuple lists it first)
 * @param guidanceHigh    guidance scale of the high-noise expert (equal to guidanceLow for single-DiT variants)
 * @param vaeStride       (t, h, w) compression of the VAE
 */
public record WanVariant(String name, WanConfig config, List<String> experts, double boundary, double sampleShift,
                         int sampleSteps, double guidanceLow, double guidanceHigh, int latentChannels,
                         int[] vaeStride, int frames, int fps) {

    public static final String HIGH_NOISE = "high_noise_model";
    public static final String LOW_NOISE = "low_noise_model";

    public boolean hasExperts() {
        return !experts.isEmpty();
    }

    /**
     * The expert for model timestep {@code t} (0..1000). A boundary above 1 is read on the 0..1000 scale, as musubi
     * accepts both (§1.2).
     */
    public String expertFor(double t) {
        if (!hasExperts()) {
            throw new IllegalStateException(name + " has a single DiT, no experts");
        }
        double b = boundary > 1.0 ? boundary / 1000.0 : boundary;
        return t / 1000.0 >= b ? HIGH_NOISE : LOW_NOISE;
    }

    /** The guidance scale for model timestep {@code t}. */
    public double guidanceFor(double t) {
        return hasExperts() && expertFor(t).equals(HIGH_NOISE) ? guidanceHigh : guidanceLow;
    }
}
