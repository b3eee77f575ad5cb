package dev.loraid.autograd.optim;

/**
 * The parameters {@link LrSchedules#byName} hands the named schedule (spec training.md §3.2).
 *
 * @param warmup     W, {@code --lr_warmup_steps} resolved to a step count
 * @param total      N = max_train_steps · num_processes
 * @param numCycles  {@code --lr_scheduler_num_cycles} (default 1): cosine_with_restarts; halved for
 *                   cosine_with_min_lr and warmup_stable_decay as upstream does
 * @param power      {@code --lr_scheduler_power} (default 1): polynomial
 * @param minLrRatio {@code --lr_scheduler_min_lr_ratio} or null: cosine_with_min_lr (required),
 *                   warmup_stable_decay (null → 0), rex (null or 0 → 0.01)
 * @param decaySteps D, {@code --lr_decay_steps} resolved to a step count, or null: warmup_stable_decay
 * @param timescale  {@code --lr_scheduler_timescale} or null (→ W, or 10000 when W is 0): inverse_sqrt
 * @param stepRules  {@code step_rules} from {@code --lr_scheduler_args}, e.g. "1:10,0.1:20,0.01":
 *                   piecewise_constant
 * @param lr         the base rate (polynomial's lr_end is absolute)
 */
public record LrScheduleArgs(long warmup, long total, int numCycles, double power, Double minLrRatio, Long decaySteps,
        Long timescale, String stepRules, double lr) {

    public LrScheduleArgs {
        if (warmup < 0 || total < 0) {
            throw new IllegalArgumentException("lr schedule: warmup (" + warmup + ") and total steps (" + total
                    + ") must not be negative");
        }
    }

    /** W, N and the base rate with every other flag at its default. */
    public static LrScheduleArgs of(long warmup, long total, double lr) {
        return new LrScheduleArgs(warmup, total, 1, 1.0, null, null, null, null, lr);
    }

    public LrScheduleArgs withNumCycles(int n) {
        return new LrScheduleArgs(warmup, total, n, power, minLrRatio, decaySteps, timescale, stepRules, lr);
    }

    public LrScheduleArgs withPower(double p) {
        return new LrScheduleArgs(warmup, total, numCycles, p, minLrRatio, decaySteps, timescale, stepRules, lr);
    }

    public LrScheduleArgs withMinLrRatio(Double r) {
        return new LrScheduleArgs(warmup, total, numCycles, power, r, decaySteps, timescale, stepRules, lr);
    }

    public LrScheduleArgs withDecaySteps(Long d) {
        return new LrScheduleArgs(warmup, total, numCycles, power, minLrRatio, d, timescale, stepRules, lr);
    }

    public LrScheduleArgs withTimescale(Long t) {
        return new LrScheduleArgs(warmup, total, numCycles, power, minLrRatio, decaySteps, t, stepRules, lr);
    }

    public LrScheduleArgs withStepRules(String rules) {
        return new LrScheduleArgs(warmup, total, numCycles, power, minLrRatio, decaySteps, timescale, rules, lr);
    }
}
