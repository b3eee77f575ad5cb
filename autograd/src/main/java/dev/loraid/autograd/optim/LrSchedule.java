package dev.loraid.autograd.optim;

/**
 * A learning-rate multiplier as a function of the scheduler step (PyTorch's LambdaLR: the rate at step s is
 * {@code baseLr · factor(s)}).
 */
@FunctionalInterface
public interface LrSchedule {
    double factor(long step);

    /** The rate of a group whose base rate is {@code baseLr}; schedules with an absolute floor (η_min) override it. */
    default double lr(long step, double baseLr) {
        return baseLr * factor(step);
    }
}
