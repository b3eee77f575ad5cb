package dev.loraid.autograd.optim;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The diffusers schedules musubi-tuner uses (spec training.md §3.2; diffusers {@code optimization.py}), as
 * LambdaLR multipliers. W = warmup steps, N = total training steps; every schedule with warmup rises linearly
 * as {@code step / max(1, W)} for {@code step < W}, except warmup_stable_decay (from its min ratio) and rex (musubi's
 * RexLR, its own warmup).
 */
public final class LrSchedules {
    /** diffusers' default lr_end for the polynomial schedule. */
    public static final double POLYNOMIAL_LR_END = 1e-7;
    /** rex's min lr ratio: {@code min_lr_ratio or 0.01} as upstream writes it, so 0 also means 0.01. */
    public static final double REX_DEFAULT_MIN_LR_RATIO = 0.01;

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
     * Warmup, then cosine decay from 1 to {@code minLrRate} (transformers' get_cosine_with_min_lr_schedule_with_warmup
     * with min_lr_rate): {@code max(0, c·(1 − minLrRate) + minLrRate)}, c = 0.5·(1 + cos(π·2·numCycles·progress)).
     */
    public static LrSchedule cosineWithMinLr(long warmup, long total, double numCycles, double minLrRate) {
        return step -> {
            if (step < warmup) {
                return warm(step, warmup);
            }
            double progress = (double) (step - warmup) / Math.max(1, total - warmup);
            double c = 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress));
            return Math.max(0.0, c * (1 - minLrRate) + minLrRate);
        };
    }

    /** Warmup, then {@code 1/sqrt((step + timescale − W) / timescale)} (get_inverse_sqrt_schedule). */
    public static LrSchedule inverseSqrt(long warmup, long timescale) {
        if (timescale <= 0) {
            throw new IllegalArgumentException("--lr_scheduler_timescale " + timescale + " must be positive");
        }
        return step -> {
            if (step < warmup) {
                return warm(step, warmup);
            }
            long shift = timescale - warmup;
            return 1.0 / Math.sqrt((double) (step + shift) / timescale);
        };
    }

    /**
     * Warmup-stable-decay (get_wsd_schedule, linear warmup and cosine decay, its defaults): warmup
     * {@code max(0, step/W·(1 − r) + r)}, then 1 for {@code stable} steps, then over D steps
     * {@code max(0, c·(1 − r) + r)} with c = 0.5·(1 + cos(π·2·numCycles·progress)), then r.
     */
    public static LrSchedule warmupStableDecay(long warmup, long stable, long decay, double numCycles, double minLrRatio) {
        return step -> {
            if (step < warmup) {
                return Math.max(0.0, warm(step, warmup) * (1 - minLrRatio) + minLrRatio);
            }
            if (step < warmup + stable) {
                return 1.0;
            }
            if (step < warmup + stable + decay) {
                double progress = (double) (step - warmup - stable) / Math.max(1, decay);
                double c = 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress));
                return Math.max(0.0, c * (1 - minLrRatio) + minLrRatio);
            }
            return minLrRatio;
        };
    }

    /**
     * diffusers' get_piecewise_constant_schedule: {@code "m1:s1,m2:s2,…,mLast"} gives multiplier m_i for steps below
     * s_i (rules taken in ascending s; a repeated s keeps the later rule) and mLast from the largest s on.
     */
    public static LrSchedule piecewiseConstant(String stepRules) {
        if (stepRules == null || stepRules.isBlank()) {
            throw new IllegalArgumentException("--lr_scheduler piecewise_constant needs step_rules in --lr_scheduler_args "
                    + "(e.g. step_rules='1:10,0.1:20,0.01')");
        }
        String[] parts = stepRules.split(",", -1);
        TreeMap<Long, Double> rules = new TreeMap<>();
        for (int i = 0; i < parts.length - 1; i++) {
            String[] vs = parts[i].split(":", -1);
            if (vs.length != 2) {
                throw new IllegalArgumentException("step_rules '" + stepRules + "': rule '" + parts[i]
                        + "' is not multiplier:step");
            }
            rules.put(parseLong(vs[1], stepRules), parseDouble(vs[0], stepRules));
        }
        double last = parseDouble(parts[parts.length - 1], stepRules);
        return step -> {
            Map.Entry<Long, Double> e = rules.higherEntry(step);
            return e == null ? last : e.getValue();
        };
    }

    /**
     * musubi's RexLR as a multiplier of max_lr = the base rate, with r = min_lr/max_lr. Warmup from r at step 1 to 1
     * at step W − 1 (r at step 1 when W = 1); then r + (1 − r)·z/(0.1 + 0.9·z) with z = (R − a mod R)/R, a = step − W,
     * R = N − W (Python's modulo: at step 0 with W ≥ 2 this gives z = W/R, an upstream quirk kept); r from a ≥ R,
     * a = −1 or R ≤ 0.
     */
    public static LrSchedule rex(long warmup, long total, double minLrRatio) {
        if (minLrRatio > 1) {
            throw new IllegalArgumentException("rex: min lr ratio " + minLrRatio + " must not exceed 1 (min_lr ≤ max_lr)");
        }
        if (warmup > total) {
            throw new IllegalArgumentException("rex: warmup steps (" + warmup + ") must not exceed the total steps (" + total + ")");
        }
        return step -> {
            if (warmup == 1 && step == 1) {
                return minLrRatio;
            }
            if (warmup > 1 && step >= 1 && step <= warmup - 1) {
                return minLrRatio + (1 - minLrRatio) * (step - 1) / (double) (warmup - 1);
            }
            long after = step - warmup;
            long remaining = total - warmup;
            if (after >= remaining || after == -1 || remaining <= 0) {
                return minLrRatio;
            }
            double z = (remaining - Math.floorMod(after, remaining)) / (double) remaining;
            return minLrRatio + (1 - minLrRatio) * (z / (0.1 + 0.9 * z));
        };
    }

    private static long parseLong(String s, String rules) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("step_rules '" + rules + "': step '" + s + "' is not an integer", e);
        }
    }

    private static double parseDouble(String s, String rules) {
        try {
            return Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("step_rules '" + rules + "': multiplier '" + s + "' is not a number", e);
        }
    }

    /**
     * The schedule named by {@code --lr_scheduler} with its parameters (spec §3.2).
     *
     * @throws IllegalArgumentException for an unknown name, warmup with "constant", or a missing parameter
     *                                  (cosine_with_min_lr without a min lr ratio, warmup_stable_decay without
     *                                  decay steps or with W + D &gt; N, piecewise_constant without step rules)
     */
    public static LrSchedule byName(String name, LrScheduleArgs a) {
        long warmup = a.warmup();
        long total = a.total();
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.equals("schedulefree")) {
            return constant(); // upstream's dummy scheduler for schedule-free optimizers, which warm up themselves
        }
        if (lower.startsWith("adafactor")) {
            // upstream's "adafactor:<lr>": transformers' AdafactorSchedule, a constant the optimizer overrides
            if (warmup > 0) {
                throw new IllegalArgumentException(name + " (Adafactor with relative_step=True) does not take "
                    + "--lr_warmup_steps (" + warmup + "); give 0, or relative_step=False for a schedule with warmup");
            }
            return constant();
        }
        return switch (lower) {
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
            case "cosine_with_restarts" -> cosineWithRestarts(warmup, total, a.numCycles());
            case "polynomial" -> polynomial(warmup, total, a.power(), a.lr(), POLYNOMIAL_LR_END);
            case "cosine_with_min_lr" -> {
                if (a.minLrRatio() == null) {
                    throw new IllegalArgumentException("--lr_scheduler cosine_with_min_lr needs --lr_scheduler_min_lr_ratio");
                }
                yield cosineWithMinLr(warmup, total, a.numCycles() / 2.0, a.minLrRatio());
            }
            case "inverse_sqrt" -> inverseSqrt(warmup, a.timescale() != null ? a.timescale() : warmup > 0 ? warmup : 10_000);
            case "warmup_stable_decay" -> {
                if (a.decaySteps() == null) {
                    throw new IllegalArgumentException("--lr_scheduler warmup_stable_decay needs --lr_decay_steps");
                }
                long stable = total - warmup - a.decaySteps();
                if (stable < 0) {
                    throw new IllegalArgumentException("--lr_scheduler warmup_stable_decay: warmup (" + warmup + ") + decay ("
                        + a.decaySteps() + ") steps exceed the " + total + " training steps");
                }
                yield warmupStableDecay(warmup, stable, a.decaySteps(), a.numCycles() / 2.0,
                    a.minLrRatio() == null ? 0.0 : a.minLrRatio());
            }
            case "piecewise_constant" -> piecewiseConstant(a.stepRules());
            case "rex" -> rex(warmup, total, a.minLrRatio() == null || a.minLrRatio() == 0 ? REX_DEFAULT_MIN_LR_RATIO : a.minLrRatio());
            default -> throw new IllegalArgumentException("unknown --lr_scheduler '" + name + "' (expected constant, "
                + "constant_with_warmup, linear, cosine, cosine_with_restarts, polynomial, cosine_with_min_lr, "
                + "inverse_sqrt, warmup_stable_decay, piecewise_constant or rex)");
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
                double percent = Double.parseDouble(v.substring(0, v.length() - 1));
                if (!(percent >= 0 && percent <= 100)) {
                    throw new IllegalArgumentException("step count '" + value + "': a percentage must be in 0%..100%");
                }
                return (long) (totalSteps * percent / 100.0);
            }
            double d = Double.parseDouble(v);
            if (!(d >= 0) || Double.isInfinite(d)) {
                throw new IllegalArgumentException("step count '" + value + "' must be a finite number ≥ 0");
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
