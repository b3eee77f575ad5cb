package dev.loraid.autograd;

import dev.loraid.autograd.optim.ParamGroup;
import dev.loraid.autograd.optim.ScheduleFreeAdamW;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.loraid.autograd.RandomTensors.f32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ScheduleFreeAdamW} against an fp64 transcription of schedulefree 1.4.1's {@code AdamWScheduleFree.step},
 * {@code eval} and {@code train} written here with plain loops, over its options; the x it shows in eval mode; resume
 * from a state saved in eval mode (as the trainer saves it); a step outside train mode refused.
 */
class ScheduleFreeAdamWTest {

    /** schedulefree's AdamWScheduleFree in doubles, one flat parameter in train mode (it holds y). */
    private static final class Reference {
        final ScheduleFreeAdamW.Settings s;
        final double[] y;
        final double[] z;
        final double[] v;
        final double[] m;
        long k;
        double lrMax = -1;
        double weightSum;
        double lastLr;

        Reference(ScheduleFreeAdamW.Settings s, float[] p) {
            this.s = s;
            y = new double[p.length];
            for (int i = 0; i < p.length; i++) {
                y[i] = p[i];
            }
            z = y.clone();
            v = new double[p.length];
            m = new double[p.length];
        }

        void step(float[] g, double groupLr) {
            double sched = k < s.warmupSteps() ? (k + 1) / (double) s.warmupSteps() : 1;
            double bc2 = 1 - Math.pow(s.beta2(), k + 1);
            double bc1 = 1 - Math.pow(s.innerMomentum(), k + 1);
            double lr = groupLr * sched;
            lrMax = Math.max(lr, lrMax);
            double weight = Math.pow(k + 1, s.r()) * Math.pow(lrMax, s.weightLrPower());
            weightSum += weight;
            double c = weight / weightSum;
            for (int i = 0; i < y.length; i++) {
                v[i] = s.beta2() * v[i] + (1 - s.beta2()) * g[i] * g[i];
                double denom = Math.sqrt(v[i] / bc2) + s.eps();
                double n;
                if (s.innerMomentum() != 0) {
                    m[i] = s.innerMomentum() * m[i] + (1 - s.innerMomentum()) * g[i];
                    n = m[i] / bc1 / denom;
                } else {
                    n = g[i] / denom;
                }
                n += s.weightDecay() * y[i];
                y[i] = y[i] + c * (z[i] - y[i]) + lr * (s.beta1() * (1 - c) - 1) * n;
                z[i] -= lr * n;
            }
            k++;
            lastLr = lr;
        }

        double[] x() {
            double[] x = new double[y.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = y[i] + (1 - 1 / s.beta1()) * (z[i] - y[i]);
            }
            return x;
        }
    }

    private static void setGrad(Parameter p, float[] g) {
        p.zeroGrad();
        p.mul(Var.constant(Tensor.of(g, p.shape().toArray()))).sum().backward();
    }

    private static double gap(double[] ref, float[] ours) {
        double rms = 0;
        for (double r : ref) {
            rms += r * r;
        }
        rms = Math.sqrt(rms / ref.length);
        double worst = 0;
        for (int i = 0; i < ref.length; i++) {
            worst = Math.max(worst, Math.abs(ours[i] - ref[i]) / rms);
        }
        return worst;
    }

    private static void check(ScheduleFreeAdamW.Settings s, double lr, long seed) {
        Parameter p = Parameter.trainable(f32(seed, 6, 9));
        ScheduleFreeAdamW ours = new ScheduleFreeAdamW(List.of(new ParamGroup("g", Map.of("w", p), lr, s.weightDecay())), s);
        Reference ref = new Reference(s, p.data().toFloatArray());
        ours.train();
        for (int t = 0; t < 10; t++) {
            float[] g = f32(seed * 17 + t, 6, 9).toFloatArray();
            setGrad(p, g);
            ours.step();
            ref.step(g, lr);
            assertTrue(gap(ref.y, p.data().toFloatArray()) < 1e-5, "y after step " + (t + 1));
            assertEquals(ref.lastLr, ours.appliedLr(0), 1e-15, "the step's rate, warmup included");
        }
        ours.eval();
        assertTrue(gap(ref.x(), p.data().toFloatArray()) < 1e-5, "eval mode shows x");
        ours.eval();
        assertTrue(gap(ref.x(), p.data().toFloatArray()) < 1e-5, "eval is idempotent");
        ours.train();
        assertTrue(gap(ref.y, p.data().toFloatArray()) < 1e-5, "train mode shows y again");
    }

    @Test
    void matchesScheduleFreeOverItsOptions() {
        check(ScheduleFreeAdamW.Settings.defaults(), 1e-2, 1);
        check(new ScheduleFreeAdamW.Settings(0.95, 0.99, 1e-6, 0.05, 4, 1.0, 0.0, 0.0), 2e-2, 2);
        check(new ScheduleFreeAdamW.Settings(0.9, 0.999, 1e-8, 0.0, 2, 0.0, 2.0, 0.9), 1e-2, 3);
    }

    @Test
    void aStateSavedInEvalModeResumesTheSameTrajectory() {
        ScheduleFreeAdamW.Settings s = new ScheduleFreeAdamW.Settings(0.9, 0.999, 1e-8, 0.01, 2, 0.0, 2.0, 0.9);
        Parameter a = Parameter.trainable(f32(5, 4, 7));
        Parameter b = Parameter.trainable(a.data().copy());
        ScheduleFreeAdamW one = new ScheduleFreeAdamW(List.of(new ParamGroup("g", Map.of("w", a), 1e-2, 0.01)), s);
        one.train();
        for (int t = 0; t < 3; t++) {
            setGrad(a, f32(60 + t, 4, 7).toFloatArray());
            one.step();
        }
        one.eval(); // the trainer saves x, then goes on from train()
        Map<String, Tensor> saved = new LinkedHashMap<>();
        one.stateDict().forEach((k, t) -> saved.put(k, t.copy()));
        b.data().backend().copy(a.data(), b.data());
        one.train();
        ScheduleFreeAdamW two = new ScheduleFreeAdamW(List.of(new ParamGroup("g", Map.of("w", b), 1e-2, 0.01)), s);
        two.loadStateDict(StateSource.of(saved));
        IllegalStateException e = assertThrows(IllegalStateException.class, two::step);
        assertTrue(e.getMessage().contains("train mode"), e.getMessage());
        two.train();
        for (int t = 3; t < 6; t++) {
            float[] g = f32(60 + t, 4, 7).toFloatArray();
            setGrad(a, g);
            setGrad(b, g);
            one.step();
            two.step();
        }
        assertArrayEquals(a.data().toFloatArray(), b.data().toFloatArray());
        Map<String, Tensor> noZ = new LinkedHashMap<>(saved);
        noZ.remove("schedulefree.g.k");
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> new ScheduleFreeAdamW(List.of(
            new ParamGroup("g", Map.of("w", Parameter.trainable(f32(5, 4, 7))), 1e-2, 0)), s).loadStateDict(StateSource.of(noZ)));
        assertTrue(missing.getMessage().contains("schedulefree.g.k: missing"), missing.getMessage());
    }
}
