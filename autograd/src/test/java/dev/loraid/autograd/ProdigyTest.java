package dev.loraid.autograd;

import dev.loraid.autograd.optim.ParamGroup;
import dev.loraid.autograd.optim.Prodigy;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.loraid.autograd.RandomTensors.f32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Prodigy} against an fp64 transcription of prodigyopt 1.1.2's {@code Prodigy.step} written here with plain
 * loops (parameters rounded to fp32 after each step, as they are stored), over several steps of random gradients on two parameters (one starting at zero, as a lora_up does), for its
 * options; the reported rate; resume from a saved state; the refusal of groups at different rates.
 */
class ProdigyTest {

    /** prodigyopt's step in doubles over flat parameters. */
    private static final class Reference {
        final Prodigy.Settings s;
        final List<double[]> p = new ArrayList<>();
        final List<double[]> p0 = new ArrayList<>();
        final List<double[]> sv = new ArrayList<>();
        final List<double[]> m = new ArrayList<>();
        final List<double[]> v = new ArrayList<>();
        double d;
        double dMax;
        double num;
        long k;
        double lastDlr;

        Reference(Prodigy.Settings s, List<float[]> params) {
            this.s = s;
            this.d = s.d0();
            this.dMax = s.d0();
            for (float[] f : params) {
                double[] x = new double[f.length];
                Arrays.setAll(x, i -> f[i]);
                p.add(x);
                double[] start = new double[(f.length + s.sliceP() - 1) / s.sliceP()];
                Arrays.setAll(start, i -> x[i * s.sliceP()]);
                p0.add(start);
                sv.add(new double[start.length]);
                m.add(new double[f.length]);
                v.add(new double[f.length]);
            }
        }

        void step(List<float[]> grads, double lr) {
            double beta1 = s.beta1();
            double beta2 = s.beta2();
            double beta3 = s.beta3() == null ? Math.sqrt(beta2) : s.beta3();
            double bc = s.biasCorrection() ? Math.sqrt(1 - Math.pow(beta2, k + 1)) / (1 - Math.pow(beta1, k + 1)) : 1;
            double dlr = d * lr * bc;
            double delta = 0;
            double denom = 0;
            List<double[]> gs = new ArrayList<>();
            for (int j = 0; j < p.size(); j++) {
                double[] x = p.get(j);
                double[] g = new double[x.length];
                float[] gf = grads.get(j);
                for (int i = 0; i < g.length; i++) {
                    g[i] = gf[i] + (s.decouple() ? 0 : s.weightDecay() * x[i]);
                }
                gs.add(g);
                double[] st = sv.get(j);
                for (int i = 0; i < st.length; i++) {
                    int at = i * s.sliceP();
                    delta += (d / s.d0()) * dlr * g[at] * (p0.get(j)[i] - x[at]);
                    st[i] = beta3 * st[i] + (d / s.d0()) * (s.safeguardWarmup() ? d : dlr) * g[at];
                    denom += Math.abs(st[i]);
                }
                for (int i = 0; i < g.length; i++) {
                    m.get(j)[i] = beta1 * m.get(j)[i] + d * (1 - beta1) * g[i];
                    v.get(j)[i] = beta2 * v.get(j)[i] + d * d * (1 - beta2) * g[i] * g[i];
                }
            }
            num = beta3 * num + delta;
            double dHat = s.dCoef() * num / denom;
            if (d == s.d0()) {
                d = Math.max(d, dHat);
            }
            dMax = Math.max(dMax, dHat);
            d = Math.min(dMax, d * s.growthRate());
            for (int j = 0; j < p.size(); j++) {
                double[] x = p.get(j);
                for (int i = 0; i < x.length; i++) {
                    double den = Math.sqrt(v.get(j)[i]) + d * s.eps();
                    if (s.decouple()) {
                        x[i] = (float) (x[i] - s.weightDecay() * dlr * x[i]); // torch's add_: its own rounding
                    }
                    x[i] -= beta1 > 0 ? dlr * m.get(j)[i] / den : dlr * d * gs.get(j)[i] / den;
                    // stored in fp32 as torch stores it: p0 − p is a difference of nearby fp32 values, which fp64
                    // arithmetic on unrounded parameters would not reproduce (steps of ~d = 1e-6 against ulp(p))
                    x[i] = (float) x[i];
                }
            }
            k++;
            lastDlr = dlr;
        }
    }

    private static void setGrad(Parameter p, float[] g) {
        p.zeroGrad();
        p.mul(Var.constant(Tensor.of(g, p.shape().toArray()))).sum().backward();
    }

    private static Prodigy.Settings with(double beta1, double weightDecay, boolean decouple, boolean biasCorrection,
            boolean safeguard, double growth, int sliceP) {
        return new Prodigy.Settings(beta1, 0.999, null, 1e-8, weightDecay, decouple, biasCorrection, safeguard, 1e-6, 1.0,
            growth, sliceP);
    }

    /** Steps ours and the reference on a [7, 5] matrix and a zero [4, 3] one; returns the worst gap relative to each parameter's RMS. */
    private static double run(Prodigy.Settings s, double lr, int steps, long seed) {
        Parameter a = Parameter.trainable(f32(seed, 7, 5));
        Parameter b = Parameter.trainable(Tensor.zeros(DType.F32, 4, 3));
        Map<String, Parameter> params = new LinkedHashMap<>();
        params.put("a", a);
        params.put("b", b);
        Prodigy ours = new Prodigy(List.of(new ParamGroup("g", params, lr, s.weightDecay())), s);
        Reference ref = new Reference(s, List.of(a.data().toFloatArray(), b.data().toFloatArray()));
        double worst = 0;
        float[] ta = f32(seed + 500, 7, 5).toFloatArray();
        float[] tb = f32(seed + 600, 4, 3).toFloatArray();
        for (int t = 0; t < steps; t++) {
            // the gradient of a quadratic towards fixed targets plus noise: steady progress, so that d grows
            float[] ga = f32(seed * 31 + t, 7, 5).toFloatArray();
            float[] gb = f32(seed * 37 + t, 4, 3).toFloatArray();
            float[] xa = a.data().toFloatArray();
            float[] xb = b.data().toFloatArray();
            for (int i = 0; i < ga.length; i++) {
                ga[i] = xa[i] - 3 * ta[i] + 0.1f * ga[i];
            }
            for (int i = 0; i < gb.length; i++) {
                gb[i] = xb[i] - 3 * tb[i] + 0.1f * gb[i];
            }
            setGrad(a, ga);
            setGrad(b, gb);
            ours.step();
            ref.step(List.of(ga, gb), lr);
            // d is a ratio of sums over differences of nearby fp32 values (p0 − p while d is small): fp32 rounding of
            // one step moves it more than it moves the parameters
            assertEquals(ref.d, ours.d(), 1e-3 * ref.d, "d after step " + (t + 1));
            assertEquals(ref.lastDlr, ours.appliedLr(0), 1e-3 * ref.lastDlr, "the reported rate is dlr");
            int j = 0;
            for (Parameter p : List.of(a, b)) {
                double[] x = p.data().toDoubleArray();
                double rms = 0;
                for (double r : ref.p.get(j)) {
                    rms += r * r;
                }
                rms = Math.sqrt(rms / x.length);
                for (int i = 0; i < x.length; i++) {
                    worst = Math.max(worst, Math.abs(x[i] - ref.p.get(j)[i]) / rms);
                }
                j++;
            }
        }
        assertTrue(ref.d > 1.5 * s.d0(), "d grew from d0 (" + ref.d + "): the estimate was exercised");
        return worst;
    }

    @Test
    void matchesProdigyoptOverItsOptions() {
        assertTrue(run(Prodigy.Settings.defaults(), 1.0, 12, 1) < 1e-5, "defaults");
        assertTrue(run(with(0, 0, true, false, false, Double.POSITIVE_INFINITY, 1), 1.0, 12, 2) < 1e-5, "beta1 0");
        assertTrue(run(with(0.9, 0.05, true, true, false, Double.POSITIVE_INFINITY, 1), 0.5, 12, 3) < 1e-5,
            "decoupled decay, bias correction");
        assertTrue(run(with(0.9, 0, true, false, true, Double.POSITIVE_INFINITY, 1), 1.0, 12, 6) < 1e-5, "safeguard_warmup");
        assertTrue(run(with(0.9, 0.05, false, false, false, 1.02, 1), 1.0, 12, 4) < 1e-5, "coupled decay, growth 1.02");
        assertTrue(run(with(0.9, 0, true, false, false, Double.POSITIVE_INFINITY, 3), 1.0, 12, 5) < 1e-5, "slice_p 3");
    }

    @Test
    void aSavedStateResumesTheSameTrajectory() {
        Prodigy.Settings s = with(0.9, 0.01, true, true, false, Double.POSITIVE_INFINITY, 2);
        Parameter a = Parameter.trainable(f32(3, 6, 5));
        Parameter b = Parameter.trainable(Tensor.zeros(DType.F32, 5, 2));
        Parameter a2 = Parameter.trainable(a.data().copy());
        Parameter b2 = Parameter.trainable(b.data().copy());
        Prodigy one = new Prodigy(List.of(new ParamGroup("g", Map.of("a", a, "b", b), 1.0, 0.01)), s);
        for (int t = 0; t < 3; t++) {
            setGrad(a, f32(40 + t, 6, 5).toFloatArray());
            setGrad(b, f32(50 + t, 5, 2).toFloatArray());
            one.step();
        }
        Map<String, Tensor> saved = new LinkedHashMap<>();
        one.stateDict().forEach((key, t) -> saved.put(key, t.copy()));
        assertEquals(0, saved.get("b.p0").shape().rank(), "a parameter that started at zero keeps a zero scalar as p0");
        assertArrayEquals(new long[] {15}, saved.get("a.p0").shape().toArray(), "every second of 30 elements");
        a2.data().backend().copy(a.data(), a2.data());
        b2.data().backend().copy(b.data(), b2.data());
        Prodigy two = new Prodigy(List.of(new ParamGroup("g", Map.of("a", a2, "b", b2), 1.0, 0.01)), s);
        two.loadStateDict(StateSource.of(saved));
        assertEquals(one.d(), two.d());
        for (int t = 3; t < 6; t++) {
            for (Parameter[] pair : new Parameter[][] {{a, a2}, {b, b2}}) {
                float[] g = f32(40 + t + (pair[0] == b ? 10 : 0), pair[0].shape().toArray()).toFloatArray();
                setGrad(pair[0], g);
                setGrad(pair[1], g);
            }
            one.step();
            two.step();
        }
        assertArrayEquals(a.data().toFloatArray(), a2.data().toFloatArray());
        assertArrayEquals(b.data().toFloatArray(), b2.data().toFloatArray());
        Map<String, Tensor> noD = new LinkedHashMap<>(saved);
        noD.remove("prodigy.d");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Prodigy(List.of(new ParamGroup("g",
            Map.of("a", Parameter.trainable(f32(3, 6, 5))), 1.0, 0)), s).loadStateDict(StateSource.of(noD)));
        assertTrue(e.getMessage().contains("prodigy.d: missing"), e.getMessage());
    }

    @Test
    void groupsAtDifferentRatesAreRefusedAndNoGradientMeansNoStep() {
        Parameter a = Parameter.trainable(f32(1, 2, 2));
        Parameter b = Parameter.trainable(f32(2, 2, 2));
        Prodigy two = new Prodigy(List.of(new ParamGroup("down", Map.of("a", a), 1.0, 0),
            new ParamGroup("up", Map.of("b", b), 16.0, 0)), Prodigy.Settings.defaults());
        setGrad(a, new float[] {1, 2, 3, 4});
        IllegalStateException e = assertThrows(IllegalStateException.class, two::step);
        assertTrue(e.getMessage().contains("different rates"), e.getMessage());
        // all-zero gradients: Σ|s| is 0 and prodigyopt returns before touching anything
        Prodigy one = new Prodigy(List.of(new ParamGroup("g", Map.of("b", b), 1.0, 0)), Prodigy.Settings.defaults());
        float[] before = b.data().toFloatArray();
        setGrad(b, new float[4]);
        one.step();
        assertArrayEquals(before, b.data().toFloatArray());
        assertEquals(1e-6, one.d());
    }
}
