package dev.loraid.autograd.optim;

import java.util.Locale;

/**
 * The diffusers schedules musubi-tuner uses (spec training.md §3.2; diffusers {@code optimization.py}), as
 * LambdaLR multipliers. W = warmup steps, N = total training steps; every schedule with warmup rises linearly
 * as {@code step / max(1, W)} for {@code step < W}.
 */
public final class LrSchedules {
    /** diffusers' default lr_end for the polynomial schedule. */
    public static final double POLYNOMIAL_LR_END = 1e-7;

    private LrSchedules() {
    }

    public static LrSchedule constant() {
        return step -> 1.0;
    }

    public static LrSchedule constantWithWarmup(long warmup) {
        return step -> step < warmup ? warm(step, warmup) : 1.0;
    }

    /** Warmup, then linear decay to 0 at step N. */
    public static LrSchedule linear(long warmup, long total) {
        return step -> step < warmup ? warm(step, warmup)
            : Math.max(0.0, (double) (total - step) / Math.max(1, total - warmup));
    }

    /** Warmup, then cosine decay; {@code numCycles} 0.5 (the diffusers default) is a half cosine to 0. */
    public static LrSchedule cosine(long warmup, long total, double numCycles) {
        return step -> {
            if (step < warmup) {
                return warm(step, warmup);
            }
            double progress = (double) (step - warmup) / Math.max(1, total - warmup);
            return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress)));
        };
    }

    public static LrSchedule cosine(long warmup, long total) {
        return cosine(warmup, total, 0.5);
    }

    /** Warmup, then {@code numCycles} cosine decays with hard restarts; 0 once progress reaches 1. */
    public static LrSchedule cosineWithRestarts(long warmup, long total, int numCycles) {
        return step -> {
            if (step < warmup) {
                return warm(step, warmup);
            }
            double progress = (double) (step - warmup) / Math.max(1, total - warmup);
            if (progress >= 1.0) {
                return 0.0;
            }
            return Math.max(0.0, 0.5 * (1.0 + Math.cos(Math.PI * ((numCycles * progress) % 1.0))));
        };
    }

    /**
     * Warmup, then polynomial decay from {@code lrInit} to {@code lrEnd} over N − W steps with {@code power};
     * after N the rate stays at lrEnd. Needs the base rate because the multiplier is relative to it.
     */
    public static LrSchedule polynomial(long warmup, long total, double power, double lrInit, double lrEnd) {
        if (!(lrInit > lrEnd)) {
            throw new IllegalArgumentException("polynomial schedule: lr_end (" + lrEnd + ") must be smaller than the initial lr ("
                + lrInit + ")");
        }
        return step -> {
            if (step < warmup) {
                return warm(step, warmup);
            }
            if (step > total) {
                return lrEnd / lrInit;
            }
            double remaining = 1.0 - (double) (step - warmup) / (total - warmup);
            return ((lrInit - lrEnd) * Math.pow(remaining, power) + lrEnd) / lrInit;
        };
    }

    private static double warm(long step, long warmup) {
        return (double) step / Math.max(1, warmup);
    }

    /**
     * The schedule named by {@code --lr_scheduler}. numCycles: {@code --lr_scheduler_num_cycles} (cosine with
     * restarts), power: {@code --lr_scheduler_power} (polynomial), lr: the base rate (polynomial).
     *
     * @throws IllegalArgumentException for an unknown name, or warmup with "constant" (spec §3.2)
     */
    public static LrSchedule byName(String name, long warmup, long total, int numCycles, double power, double lr) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "constant" -> {
                if (warmup > 0) {
                    throw new IllegalArgumentException("--lr_scheduler constant does not take --lr_warmup_steps ("
                        + warmup + "); use constant_with_warmup");
                }
                yield constant();
            }
            case "constant_with_warmup" -> constantWithWarmup(warmup);
            case "linear" -> linear(warmup, total);
            case "cosine" -> cosine(warmup, total);
            case "cosine_with_restarts" -> cosineWithRestarts(warmup, total, numCycles);
            case "polynomial" -> polynomial(warmup, total, power, lr, POLYNOMIAL_LR_END);
            default -> throw new IllegalArgumentException("unknown --lr_scheduler '" + name + "' (expected constant, "
                + "constant_with_warmup, linear, cosine, cosine_with_restarts or polynomial)");
        };
    }

    /**
     * Parses {@code --lr_warmup_steps} / {@code --lr_decay_steps} (spec §3.2): an integer step count, a ratio
     * {@code < 1} of the total steps, or a percentage such as {@code "5%"}; an integral float ≥ 1 is a count.
     */
    public static long parseSteps(String value, long totalSteps) {
        String v = value.trim();
        try {
            if (v.endsWith("%")) {
                return (long) (totalSteps * Double.parseDouble(v.substring(0, v.length() - 1)) / 100.0);
            }
            double d = Double.parseDouble(v);
            if (d < 0) {
                throw new IllegalArgumentException("step count '" + value + "' must not be negative");
            }
            if (d < 1) {
                return (long) (totalSteps * d);
            }
            if (d != Math.rint(d)) {
                throw new IllegalArgumentException("step count '" + value + "' must be an integer, a ratio below 1 or a percentage");
            }
            return (long) d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("step count '" + value + "': expected an integer, a ratio below 1 or a percentage", e);
        }
    }
}
