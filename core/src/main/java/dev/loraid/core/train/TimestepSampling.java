package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** {@code --timestep_sampling} (spec training.md §1.2–§1.4); {@link #SIGMA} is the CLI default. */
public enum TimestepSampling {
    /** Discrete: the index into the 1000-entry scheduler table comes from the weighting-scheme density (§1.3). */
    SIGMA,
    UNIFORM,
    SIGMOID,
    SHIFT,
    FLUX_SHIFT,
    FLUX2_SHIFT,
    QWEN_SHIFT,
    KREA2_SHIFT,
    LOGSNR,
    QINGLONG_FLUX,
    QINGLONG_QWEN;

    /** The flag value, e.g. {@code flux_shift}. */
    public String flagValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the DiT sees {@code t·1000 + 1} (every mode but {@link #SIGMA}, §1.1). */
    public boolean continuous() {
        return this != SIGMA;
    }

    /**
     * The mode named by {@code --timestep_sampling}.
     *
     * @throws IllegalArgumentException for {@code ideogram4_shift} (not a Wan mode) or an unknown name, listing
     *                                  the choices
     */
    public static TimestepSampling parse(String flagValue) {
        String v = flagValue.trim().toLowerCase(Locale.ROOT);
        if (v.equals("ideogram4_shift")) {
            throw new ParameterException(named(param("TimestepConfig.sampling"),
                    " ideogram4_shift is not for Wan (a resolution-aware "
                    + "logit-normal for Ideogram 4); expected one of " + choices()));
        }
        for (TimestepSampling s : values()) {
            if (s.flagValue().equals(v)) {
                return s;
            }
        }
        throw new ParameterException(named("unknown ", param("TimestepConfig.sampling"), " '" + flagValue
                + "' (expected one of " + choices() + ")"));
    }

    static String choices() {
        return Arrays.stream(values()).map(TimestepSampling::flagValue).collect(Collectors.joining(", "));
    }
}
