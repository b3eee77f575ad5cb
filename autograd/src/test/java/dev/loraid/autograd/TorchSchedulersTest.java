package dev.loraid.autograd;

import dev.loraid.autograd.optim.LrSchedule;
import dev.loraid.autograd.optim.TorchSchedulers;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TorchSchedulers}' closed forms against PyTorch's chainable (recursive) {@code get_lr} of each class, stepped
 * here from the base rate as {@code scheduler.step()} does, for 40 steps; refusals naming the class or argument.
 */
class TorchSchedulersTest {
    private static final double BASE = 2e-3;

    /** One recursive step: the rate at step e from the rate at e − 1. */
    private interface Recursive {
        double next(long e, double lr);
    }

    private static void assertFollows(LrSchedule closed, Recursive torch, String what) {
        double lr = BASE;
        for (long e = 0; e < 40; e++) {
            lr = torch.next(e, lr);
            assertEquals(lr, closed.lr(e, BASE), 1e-12 + 1e-9 * Math.abs(lr), what + " at step " + e);
        }
    }

    @Test
    void stepMultiStepExponential() {
        assertFollows(TorchSchedulers.of("StepLR", List.of("step_size=7", "gamma=0.5")),
            (e, lr) -> e == 0 || e % 7 != 0 ? lr : lr * 0.5, "StepLR");
        List<Long> milestones = List.of(5L, 12L, 12L, 30L);
        assertFollows(TorchSchedulers.of("torch.optim.lr_scheduler.MultiStepLR", List.of("milestones=[5, 12, 12, 30]", "gamma=0.3")),
            (e, lr) -> lr * Math.pow(0.3, milestones.stream().filter(m -> m == e).count()), "MultiStepLR (a milestone twice)");
        assertFollows(TorchSchedulers.of("ExponentialLR", List.of("gamma=0.9")), (e, lr) -> e == 0 ? lr : lr * 0.9,
            "ExponentialLR");
    }

    @Test
    void constantLinearPolynomial() {
        double f = 0.25;
        assertFollows(TorchSchedulers.of("ConstantLR", List.of("factor=0.25", "total_iters=6")),
            (e, lr) -> e == 0 ? lr * f : e != 6 ? lr : lr / f, "ConstantLR");
        double s = 0.1;
        double t = 0.9;
        assertFollows(TorchSchedulers.of("LinearLR", List.of("start_factor=0.1", "end_factor=0.9", "total_iters=10")),
            (e, lr) -> e == 0 ? lr * s : e > 10 ? lr : lr * (1 + (t - s) / (10 * s + (e - 1) * (t - s))), "LinearLR");
        assertFollows(TorchSchedulers.of("PolynomialLR", List.of("total_iters=15", "power=2.0")),
            (e, lr) -> e == 0 || e > 15 ? lr : lr * Math.pow((1.0 - e / 15.0) / (1.0 - (e - 1) / 15.0), 2.0), "PolynomialLR");
    }

    @Test
    void cosineAnnealingAndWarmRestarts() {
        double eta = 1e-4;
        long tMax = 9;
        assertFollows(TorchSchedulers.of("CosineAnnealingLR", List.of("T_max=9", "eta_min=1e-4")), (e, lr) -> {
            if (e == 0) {
                return lr;
            }
            if ((e - 1 - tMax) % (2 * tMax) == 0) {
                return lr + (BASE - eta) * (1 - Math.cos(Math.PI / tMax)) / 2;
            }
            return (1 + Math.cos(Math.PI * e / tMax)) / (1 + Math.cos(Math.PI * (e - 1) / tMax)) * (lr - eta) + eta;
        }, "CosineAnnealingLR past T_max");
        long[] state = {0, 4}; // T_cur, T_i of CosineAnnealingWarmRestarts(T_0=4, T_mult=2)
        assertFollows(TorchSchedulers.of("CosineAnnealingWarmRestarts", List.of("T_0=4", "T_mult=2", "eta_min=1e-4")), (e, lr) -> {
            if (e > 0) {
                state[0]++;
                if (state[0] >= state[1]) {
                    state[0] -= state[1];
                    state[1] *= 2;
                }
            }
            return eta + (BASE - eta) * (1 + Math.cos(Math.PI * state[0] / state[1])) / 2;
        }, "CosineAnnealingWarmRestarts");
    }

    @Test
    void refusals() {
        for (var c : List.of(List.of("OneCycleLR", "cycles the momentum"), List.of("StepLR", "needs --lr_scheduler_args step_size"),
                List.of("transformers.get_cosine_schedule", "only torch.optim.lr_scheduler classes"),
                List.of("Cosine", "not a torch.optim.lr_scheduler class"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TorchSchedulers.of(c.get(0), List.of()));
            assertTrue(e.getMessage().contains(c.get(1)), c + ": " + e.getMessage());
        }
        IllegalArgumentException extra = assertThrows(IllegalArgumentException.class,
            () -> TorchSchedulers.of("ExponentialLR", List.of("gamma=0.9", "T_max=3")));
        assertTrue(extra.getMessage().contains("does not take T_max"), extra.getMessage());
    }
}
