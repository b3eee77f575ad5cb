package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * {@code --weighting_scheme} (spec training.md §1.3, §1.6): the density of the {@code sigma} sampling mode and the
 * per-sample loss weight, which applies in every mode.
 */
public enum WeightingScheme {
    NONE,
    /** Sigma mode draws u = sigmoid(N(logit_mean, logit_std)); no loss weight. */
    LOGIT_NORMAL,
    /** Sigma mode draws u = 1 − u0 − mode_scale·(cos²(π·u0/2) − 1 + u0); no loss weight. */
    MODE,
    /** w = 2 / (π·(1 − 2σ + 2σ²)). */
    COSMAP,
    /** w = σ⁻². */
    SIGMA_SQRT;

    public String flagValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @throws IllegalArgumentException for an unknown name, listing the choices */
    public static WeightingScheme parse(String flagValue) {
        String v = flagValue.trim().toLowerCase(Locale.ROOT);
        for (WeightingScheme s : values()) {
            if (s.flagValue().equals(v)) {
                return s;
            }
        }
        throw new ParameterException(named("unknown ", param("TimestepConfig.weighting"), " '" + flagValue
                + "' (expected one of "
                + Arrays.stream(values()).map(WeightingScheme::flagValue).collect(Collectors.joining(", ")) + ")"));
    }

    /**
     * The loss weight at σ, where σ is a table value ({@link #tableSigma}); σ = 0 never occurs in the table, so
     * sigma_sqrt stays finite.
     */
    public double weight(double sigma) {
        return switch (this) {
            case SIGMA_SQRT -> 1.0 / (sigma * sigma);
            case COSMAP -> 2.0 / (Math.PI * (1 - 2 * sigma + 2 * sigma * sigma));
            case NONE, LOGIT_NORMAL, MODE -> 1.0;
        };
    }

    /** {@link #weight(double)} at the table σ of the DiT timestep (§1.6: nearest-timestep lookup). */
    public double weightAtTimestep(double timestep) {
        return weight(tableSigma(timestep));
    }

    /**
     * σ of the scheduler table entry nearest to {@code timestep} (§1.1: timesteps 1000, 999, …, 1 with
     * σ = timestep/1000; §1.6: other values are rounded to the nearest entry). Values above 1000 (the +1 offset
     * reaches 1001) give σ = 1, values below 1 give σ = 0.001. An exact tie between two entries takes the larger
     * timestep, the first in the table's descending order, as an argmin over it would.
     */
    public static double tableSigma(double timestep) {
        double nearest = Math.floor(timestep + 0.5); // x.5 → x+1: the larger of the two
        return Math.min(1000, Math.max(1, nearest)) / 1000.0;
    }
}
