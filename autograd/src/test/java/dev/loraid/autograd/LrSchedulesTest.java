package dev.loraid.autograd;

import dev.loraid.autograd.optim.LrSchedule;
import dev.loraid.autograd.optim.LrScheduleArgs;
import dev.loraid.autograd.optim.LrScheduler;
import dev.loraid.autograd.optim.LrSchedules;
import dev.loraid.autograd.optim.Sgd;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.function.LongToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        assertThrows(IllegalArgumentException.class, () -> LrSchedules.byName("constant", LrScheduleArgs.of(5, N, 1e-4)));
    }

    /** Upstream's "adafactor:<lr>" (AdafactorSchedule): a constant factor, and no warmup. */
    @Test
    void adafactorsOwnScheduleIsConstantAndTakesNoWarmup() {
        assertSchedule(LrSchedules.byName("adafactor:0.0002", LrScheduleArgs.of(0, N, 2e-4)), s -> 1.0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> LrSchedules.byName("adafactor:0.0002", LrScheduleArgs.of(5, N, 2e-4)));
        assertTrue(e.getMessage().contains("--lr_warmup_steps (5)"), e.getMessage());
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
        LrScheduler sched = new LrScheduler(opt, LrSchedules.byName("linear", LrScheduleArgs.of(W, N, 2e-4)));
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
        // issue 16: no negative, unbounded or NaN step counts
        for (String bad : new String[] {"-5", "-5%", "150%", "Infinity", "NaN"}) {
            assertThrows(IllegalArgumentException.class, () -> LrSchedules.parseSteps(bad, 1600), bad);
        }
        assertEquals(1600, LrSchedules.parseSteps("100%", 1600));
    }

    @Test
    void cosineWithMinLrEndsAtTheRatio() {
        // byName halves --lr_scheduler_num_cycles (default 1) as upstream does: a half cosine from 1 to 0.1
        LrSchedule s = LrSchedules.byName("cosine_with_min_lr", LrScheduleArgs.of(W, N, 1e-4).withMinLrRatio(0.1));
        assertEquals(0.5, s.factor(5), 1e-15, "warmup");
        assertEquals(1.0, s.factor(W), 1e-15);
        assertEquals(0.868198051533946, s.factor(35), 1e-12, "0.9·(1 + cos(π/4))/2 + 0.1");
        assertEquals(0.55, s.factor(60), 1e-15, "middle: 0.9·0.5 + 0.1");
        assertEquals(0.1, s.factor(N), 1e-15, "end");
        assertSchedule(s, step -> step < W ? warmup(step)
                : 0.9 * 0.5 * (1 + Math.cos(Math.PI * (step - W) / (double) (N - W))) + 0.1);
        assertThrows(IllegalArgumentException.class, () -> LrSchedules.byName("cosine_with_min_lr", LrScheduleArgs.of(W, N, 1e-4)));
    }

    @Test
    void inverseSqrtWithTheWarmupAsTimescale() {
        LrSchedule s = LrSchedules.byName("inverse_sqrt", LrScheduleArgs.of(W, N, 1e-4));
        assertEquals(0.5, s.factor(5), 1e-15, "warmup");
        assertEquals(1.0, s.factor(10), 1e-15);
        assertEquals(0.5, s.factor(40), 1e-15, "1/sqrt(40/10)");
        assertEquals(1.0 / 3, s.factor(90), 1e-15, "1/sqrt(90/10)");
        LrSchedule t = LrSchedules.byName("inverse_sqrt", LrScheduleArgs.of(W, N, 1e-4).withTimescale(20L));
        assertEquals(1.0, t.factor(10), 1e-15, "shift = timescale − W = 10");
        assertEquals(0.5, t.factor(70), 1e-15, "1/sqrt((70 + 10)/20)");
        LrSchedule noWarmup = LrSchedules.byName("inverse_sqrt", LrScheduleArgs.of(0, N, 1e-4));
        assertEquals(1.0, noWarmup.factor(0), 0, "timescale 10000 without warmup");
        assertEquals(0.5, noWarmup.factor(30_000), 1e-15, "1/sqrt(40000/10000)");
    }

    @Test
    void warmupStableDecay() {
        LrScheduleArgs a = LrScheduleArgs.of(W, N, 1e-4).withDecaySteps(20L); // stable = 110 − 10 − 20 = 80
        LrSchedule s = LrSchedules.byName("warmup_stable_decay", a);
        assertEquals(0.0, s.factor(0), 0);
        assertEquals(0.5, s.factor(5), 1e-15, "warmup");
        assertEquals(1.0, s.factor(50), 0, "stable");
        assertEquals(1.0, s.factor(89), 0, "last stable step");
        assertEquals(1.0, s.factor(90), 1e-15, "decay starts at cos 0");
        assertEquals(0.5, s.factor(100), 1e-15, "middle of the half-cosine decay");
        assertEquals(0.0, s.factor(110), 0, "end: the min ratio");
        LrSchedule m = LrSchedules.byName("warmup_stable_decay", a.withMinLrRatio(0.2));
        assertEquals(0.2, m.factor(0), 1e-15, "warmup starts at the min ratio");
        assertEquals(0.6, m.factor(5), 1e-15, "0.5·0.8 + 0.2");
        assertEquals(0.6, m.factor(100), 1e-15, "0.5·0.8 + 0.2");
        assertEquals(0.2, m.factor(200), 0);
        assertThrows(IllegalArgumentException.class, () -> LrSchedules.byName("warmup_stable_decay", LrScheduleArgs.of(W, N, 1e-4)));
        assertThrows(IllegalArgumentException.class,
                () -> LrSchedules.byName("warmup_stable_decay", LrScheduleArgs.of(W, N, 1e-4).withDecaySteps(101L)));
    }

    @Test
    void piecewiseConstantFollowsTheStepRules() {
        LrSchedule s = LrSchedules.byName("piecewise_constant", LrScheduleArgs.of(0, N, 1e-4).withStepRules("1:10,0.1:20,0.01"));
        assertEquals(1.0, s.factor(0), 0);
        assertEquals(1.0, s.factor(9), 0);
        assertEquals(0.1, s.factor(10), 0);
        assertEquals(0.1, s.factor(19), 0);
        assertEquals(0.01, s.factor(20), 0);
        assertEquals(0.01, s.factor(10_000), 0);
        LrSchedule unsorted = LrSchedules.piecewiseConstant("0.5:30,2:5,0.25");
        assertEquals(2.0, unsorted.factor(4), 0);
        assertEquals(0.5, unsorted.factor(5), 0);
        assertEquals(0.25, unsorted.factor(30), 0);
        assertEquals(0.3, LrSchedules.piecewiseConstant("0.3").factor(7), 0, "only the final multiplier");
        assertThrows(IllegalArgumentException.class, () -> LrSchedules.byName("piecewise_constant", LrScheduleArgs.of(0, N, 1e-4)));
        assertThrows(IllegalArgumentException.class, () -> LrSchedules.piecewiseConstant("1:ten,0.1"));
        assertThrows(IllegalArgumentException.class, () -> LrSchedules.piecewiseConstant("1,0.1"));
    }

    @Test
    void rexFollowsMusubisRexLr() {
        LrSchedule s = LrSchedules.byName("rex", LrScheduleArgs.of(W, N, 1e-4)); // min ratio 0.01, R = 100
        assertEquals(0.01 + 0.99 * (0.1 / 0.19), s.factor(0), 1e-15, "step 0: Python's −10 mod 100 = 90, z = 0.1");
        assertEquals(0.01, s.factor(1), 1e-15, "warmup starts at the min ratio");
        assertEquals(0.45, s.factor(5), 1e-15, "0.01 + 0.99·4/9");
        assertEquals(0.89, s.factor(9), 1e-15, "0.01 + 0.99·8/9");
        assertEquals(1.0, s.factor(10), 1e-15, "z = 1");
        assertEquals(0.91, s.factor(60), 1e-15, "z = 0.5: 0.01 + 0.99·0.5/0.55");
        assertEquals(0.01 + 0.99 * (0.1 / 0.19), s.factor(100), 1e-15, "z = 0.1");
        assertEquals(0.01, s.factor(N), 0, "end");
        assertEquals(0.01, LrSchedules.byName("rex", LrScheduleArgs.of(W, N, 1e-4).withMinLrRatio(0.0)).factor(N), 0,
                "min_lr_ratio or 0.01: 0 also means 0.01");
        LrSchedule half = LrSchedules.byName("rex", LrScheduleArgs.of(0, N, 1e-4).withMinLrRatio(0.5));
        assertEquals(1.0, half.factor(0), 1e-15, "no warmup: the full rate at step 0");
        assertEquals(0.5 + 0.5 * (0.5 / 0.55), half.factor(55), 1e-15);
        LrSchedule one = LrSchedules.rex(1, N, 0.01);
        assertEquals(0.01, one.factor(0), 0, "W = 1: step − W = −1");
        assertEquals(0.01, one.factor(1), 0);
        double z = 108 / 109.0; // step 2: a = 1, R = 109
        assertEquals(0.01 + 0.99 * z / (0.1 + 0.9 * z), one.factor(2), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> LrSchedules.rex(N + 1, N, 0.01));
    }

    @Test
    void unknownNameListsTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LrSchedules.byName("cosine_annealing", LrScheduleArgs.of(0, N, 1e-4)));
        assertTrue(e.getMessage().contains("warmup_stable_decay"), e.getMessage());
    }
}
