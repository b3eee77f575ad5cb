package dev.loraid.wan.sample;

import java.util.Arrays;
import java.util.Locale;

/**
 * {@code --cfg_skip_mode} with {@code --cfg_apply_ratio}: on which steps CFG runs (the others use the conditional pass
 * alone, without evaluating the unconditional one). The spec lists only the names (training.md §6.3); the rules are
 * upstream's {@code run_sampling} (musubi-tuner wan_generate_video.py at the spec's commit 30c658c). With n steps and
 * k = int(n·ratio) applied steps: {@code early} skips the first n − k, {@code late} the last n − k, {@code early_late}
 * applies the k steps from (n − k)/2, {@code middle} skips the n − k steps from k/2, and {@code alternate} adds the
 * ratio each step and applies when the sum reaches 1 (subtracting 1). Without a ratio every mode applies CFG on every
 * step, as upstream.
 */
public enum CfgSkipMode {
    NONE, EARLY, LATE, MIDDLE, EARLY_LATE, ALTERNATE;

    public static CfgSkipMode parse(String name) {
        try {
            return valueOf(name.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown cfg skip mode '" + name + "' (known: "
                    + String.join(", ", Arrays.stream(values()).map(CfgSkipMode::flagValue).toList()) + ")");
        }
    }

    public String flagValue() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Per step of {@code n}: whether CFG is applied. {@code ratio} null means every step. */
    public boolean[] applied(int n, Double ratio) {
        boolean[] apply = new boolean[n];
        if (this == NONE || ratio == null) {
            Arrays.fill(apply, true);
            return apply;
        }
        int k = (int) (n * ratio);
        int start = switch (this) {
            case EARLY -> n - k;
            case EARLY_LATE -> (n - k) / 2;
            default -> 0;
        };
        int end = switch (this) {
            case EARLY -> n;
            case LATE -> k;
            case EARLY_LATE -> (n - k) / 2 + k;
            default -> 0;
        };
        int skip = n - k;
        int middleStart = (n - skip) / 2;
        double w = 0;
        for (int i = 0; i < n; i++) {
            apply[i] = switch (this) {
                case ALTERNATE -> {
                    w += ratio;
                    boolean on = w >= 1.0;
                    if (on) {
                        w -= 1.0;
                    }
                    yield on;
                }
                case MIDDLE -> i < middleStart || i >= middleStart + skip;
                default -> i >= start && i < end;
            };
        }
        return apply;
    }
}
