package dev.loraid.autograd.optim;

/**
 * Applies a {@link LrSchedule} to every group of an optimizer, LambdaLR style: on construction each group's
 * rate is {@code baseLr · factor(0)}; each {@link #step()} advances the count and sets
 * {@code baseLr · factor(count)}. Call it once per optimizer update (spec training.md §3.2).
 */
public final class LrScheduler {
    private final Optimizer optimizer;
    private final LrSchedule schedule;
    private long step;

    public LrScheduler(Optimizer optimizer, LrSchedule schedule) {
        this.optimizer = optimizer;
        this.schedule = schedule;
        apply();
    }

    public void step() {
        step++;
        apply();
    }

    /** The scheduler's step count (restored on resume with {@link #setStep}). */
    public long stepCount() {
        return step;
    }

    public void setStep(long step) {
        this.step = step;
        apply();
    }

    /** The current rate of group {@code i}. */
    public double lr(int group) {
        return optimizer.groups().get(group).lr();
    }

    private void apply() {
        for (ParamGroup g : optimizer.groups()) {
            g.setLr(schedule.lr(step, g.baseLr()));
        }
    }
}
