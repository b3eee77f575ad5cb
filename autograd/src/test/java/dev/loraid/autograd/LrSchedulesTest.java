package dev.loraid.autograd;

import dev.loraid.autograd.optim.LrSchedule;
import dev.loraid.autograd.optim.LrScheduler;
import dev.loraid.autograd.optim.LrSchedules;
import dev.loraid.autograd.optim.Sgd;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.function.LongToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Each schedule against the diffusers formulas (spec training.md §3.2), restated here in closed form per phase,
 * plus hand-computed spot values.
 */
class LrSchedulesTest {
    private static final long W = 10;
    private static final long N = 110;

    private static void assertSchedule(LrSchedule s, LongToDoubleFunction expected) {
        for (long step = 0; step <= N + 5; step++) {
            assertEquals(expected.applyAsDouble(step), s.factor(step), 1e-12, "step " + step);
        }
    }

    private static double warmup(long step) {
        return step / (double) W;
    }

    @Test
    void constant() {
        assertSchedule(LrSchedules.constant(), s -> 1.0);
        assertThrows(IllegalArgumentException.class, () -> LrSchedules.byName("constant", 5, N, 1, 1, 1e-4));
    }

    @Test
    void constantWithWarmup() {
        assertSchedule(LrSchedules.constantWithWarmup(W), s -> s < W ? warmup(s) : 1.0);
        assertEquals(0.5, LrSchedules.constantWithWarmup(W).factor(5), 0);
    }

    @Test
    void linear() {
        assertSchedule(LrSchedules.linear(W, N), s -> s < W ? warmup(s) : s >= N ? 0.0 : 1.0 - (s - W) / (double) (N - W));
        assertEquals(0.5, LrSchedules.linear(W, N).factor(60), 1e-15);
    }

    @Test
    void cosineIsAHalfCosineToZero() {
        assertSchedule(LrSchedules.cosine(W, N), s -> {
            if (s < W) {
                return warmup(s);
            }
            double t = (s - W) / (double) (N - W);
            return Math.max(0, (1 + Math.cos(Math.PI * t)) / 2);
        });
        assertEquals(0.5, LrSchedules.cosine(W, N).factor(60), 1e-15);
        assertEquals(0.0, LrSchedules.cosine(W, N).factor(N), 1e-15);
    }

    @Test
    void cosineWithHardRestarts() {
        int cycles = 3;
        assertSchedule(LrSchedules.cosineWithRestarts(W, N, cycles), s -> {
            if (s < W) {
                return warmup(s);
            }
            if (s >= N) {
                return 0.0;
            }
            double phase = (s - W) * cycles / (double) (N - W);
            phase -= Math.floor(phase);
            return (1 + Math.cos(Math.PI * phase)) / 2;
        });
        LrSchedule two = LrSchedules.cosineWithRestarts(W, N, 2);
        assertEquals(1.0, two.factor(60), 1e-15, "restart at the middle");
        assertEquals(0.5, two.factor(35), 1e-12, "a quarter of the way: half of the first cycle");
    }

    @Test
    void polynomialDecaysToLrEnd() {
        double lr = 1e-3;
        double end = 1e-7;
        double power = 2.0;
        assertSchedule(LrSchedules.polynomial(W, N, power, lr, end), s -> {
            if (s < W) {
                return warmup(s);
            }
            if (s > N) {
                return end / lr;
            }
            double remaining = (N - s) / (double) (N - W);
            return (end + (lr - end) * remaining * remaining) / lr;
        });
        assertEquals((0.25 * (lr - end) + end) / lr, LrSchedules.polynomial(W, N, 2.0, lr, end).factor(60), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> LrSchedules.polynomial(W, N, 1, 1e-8, 1e-7));
    }

    @Test
    void schedulerFollowsLambdaLrSemantics() {
        Parameter p = Parameter.zeros(2);
        Sgd opt = new Sgd(Map.of("p", p), 2e-4, 0);
        LrScheduler sched = new LrScheduler(opt, LrSchedules.byName("linear", W, N, 1, 1, 2e-4));
        assertEquals(0.0, sched.lr(0), 0, "LambdaLR starts at base · factor(0)");
        for (int i = 0; i < 5; i++) {
            sched.step();
        }
        assertEquals(1e-4, sched.lr(0), 1e-18);
        sched.setStep(60);
        assertEquals(1e-4, sched.lr(0), 1e-18);
    }

    @Test
    void warmupStepsParseAsCountRatioOrPercentage() {
        assertEquals(100, LrSchedules.parseSteps("100", 1600));
        assertEquals(80, LrSchedules.parseSteps("0.05", 1600));
        assertEquals(80, LrSchedules.parseSteps("5%", 1600));
        assertEquals(3, LrSchedules.parseSteps("3.0", 1600));
        assertThrows(IllegalArgumentException.class, () -> LrSchedules.parseSteps("2.5", 1600));
        assertThrows(IllegalArgumentException.class, () -> LrSchedules.parseSteps("ten", 1600));
    }
}
