package dev.loraid.autograd;

import dev.loraid.autograd.optim.Adafactor;
import dev.loraid.autograd.optim.ParamGroup;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

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
 * {@link Adafactor} against an fp64 transcription of transformers' {@code Adafactor.step} written here with plain loops
 * (factored second moment over the last two dimensions of any rank ≥ 2, a full one for vectors, the relative step, the
 * parameter scale, the update's RMS clip, beta1 and weight decay), over several steps of random gradients; a worked
 * first step; the rate reported for logging; resume from a saved state.
 */
class AdafactorTest {

    /** transformers' Adafactor in doubles, one parameter of shape [B, R, C] (B = 1 for a matrix; R = 1, C = n for a vector). */
    private static final class Reference {
        final Adafactor.Settings s;
        final boolean factored;
        final int b;
        final int r;
        final int c;
        final double[] p;
        final double[] row;
        final double[] col;
        final double[] sq;
        final double[] m;
        long step;
        double lastLr;

        Reference(Adafactor.Settings s, float[] p, long[] shape) {
            this.s = s;
            this.factored = shape.length >= 2;
            this.c = (int) shape[shape.length - 1];
            this.r = factored ? (int) shape[shape.length - 2] : 1;
            this.b = p.length / (r * c);
            this.p = new double[p.length];
            Arrays.setAll(this.p, i -> p[i]);
            this.row = new double[b * r];
            this.col = new double[b * c];
            this.sq = new double[p.length];
            this.m = new double[p.length];
        }

        void step(float[] gf, double groupLr) {
            double[] g = new double[gf.length];
            Arrays.setAll(g, i -> gf[i]);
            step++;
            double t = step;
            double rel = s.relativeStep() ? Math.min(s.warmupInit() ? 1e-6 * t : 1e-2, 1 / Math.sqrt(t)) : groupLr;
            double lr = s.scaleParameter() ? Math.max(s.eps2(), rms(p)) * rel : rel;
            lastLr = lr;
            double beta2t = 1 - Math.pow(t, s.decayRate());
            double[] u = new double[g.length];
            if (factored) {
                for (int bi = 0; bi < b; bi++) {
                    for (int i = 0; i < r; i++) {
                        double mean = 0;
                        for (int j = 0; j < c; j++) {
                            mean += g[(bi * r + i) * c + j] * g[(bi * r + i) * c + j] + s.eps1();
                        }
                        row[bi * r + i] = beta2t * row[bi * r + i] + (1 - beta2t) * mean / c;
                    }
                    for (int j = 0; j < c; j++) {
                        double mean = 0;
                        for (int i = 0; i < r; i++) {
                            mean += g[(bi * r + i) * c + j] * g[(bi * r + i) * c + j] + s.eps1();
                        }
                        col[bi * c + j] = beta2t * col[bi * c + j] + (1 - beta2t) * mean / r;
                    }
                    double rowMean = 0;
                    for (int i = 0; i < r; i++) {
                        rowMean += row[bi * r + i] / r;
                    }
                    for (int i = 0; i < r; i++) {
                        for (int j = 0; j < c; j++) {
                            int k = (bi * r + i) * c + j;
                            u[k] = g[k] / Math.sqrt(row[bi * r + i] / rowMean) / Math.sqrt(col[bi * c + j]);
                        }
                    }
                }
            } else {
                for (int k = 0; k < g.length; k++) {
                    sq[k] = beta2t * sq[k] + (1 - beta2t) * (g[k] * g[k] + s.eps1());
                    u[k] = g[k] / Math.sqrt(sq[k]);
                }
            }
            double denom = Math.max(1.0, rms(u) / s.clipThreshold());
            for (int k = 0; k < u.length; k++) {
                u[k] = u[k] / denom * lr;
                if (s.beta1() != null) {
                    m[k] = s.beta1() * m[k] + (1 - s.beta1()) * u[k];
                    u[k] = m[k];
                }
                p[k] = p[k] - s.weightDecay() * lr * p[k] - u[k];
            }
        }

        static double rms(double[] x) {
            double ss = 0;
            for (double v : x) {
                ss += v * v;
            }
            return Math.sqrt(ss / x.length);
        }
    }

    private static void setGrad(Parameter p, Tensor g) {
        p.zeroGrad();
        p.mul(Var.constant(g)).sum().backward();
    }

    private static Adafactor.Settings settings(Double beta1, double weightDecay, boolean scale, boolean relative,
            boolean warmupInit) {
        return new Adafactor.Settings(1e-30, 1e-3, 1.0, -0.8, beta1, weightDecay, scale, relative, warmupInit);
    }

    /** Runs {@code steps} steps of random gradients (scaled by {@code gradScale}) on ours and the reference; returns the worst relative gap. */
    private static double run(Adafactor.Settings s, long[] shape, int steps, double gradScale, double groupLr, long seed) {
        Parameter p = Parameter.trainable(f32(seed, shape));
        Reference ref = new Reference(s, p.data().toFloatArray(), shape);
        Adafactor opt = new Adafactor(List.of(new ParamGroup("g", Map.of("w", p), groupLr, s.weightDecay())), s);
        double worst = 0;
        for (int t = 0; t < steps; t++) {
            float[] g = f32(seed * 100 + t, shape).toFloatArray();
            for (int i = 0; i < g.length; i++) {
                g[i] *= (float) (gradScale * (1 + (i % 3))); // uneven rows and columns, so the factors matter
            }
            setGrad(p, Tensor.of(g, shape));
            opt.step();
            ref.step(g, groupLr);
            // the reported rate: the first parameter's with relative steps (AdafactorSchedule), else the group's
            double reported = s.relativeStep() ? ref.lastLr : groupLr;
            assertEquals(reported, opt.appliedLr(0), 1e-6 * reported, "rate of step " + (t + 1));
            double[] ours = p.data().toDoubleArray();
            double span = Reference.rms(ref.p);
            for (int i = 0; i < ours.length; i++) {
                worst = Math.max(worst, Math.abs(ours[i] - ref.p[i]) / span);
            }
        }
        return worst;
    }

    @Test
    void matchesTransformersAdafactorOnMatricesVectorsAndStacks() {
        Adafactor.Settings defaults = Adafactor.Settings.defaults();
        assertEquals(settings(null, 0, true, true, false), defaults);
        for (long[] shape : List.of(new long[] {5, 7}, new long[] {33, 4}, new long[] {9}, new long[] {2, 3, 5}, new long[] {1, 7},
                new long[] {7, 1})) { // rank-1 LoRA matrices: one row, one column
            String at = Arrays.toString(shape);
            assertTrue(run(defaults, shape, 6, 1.0, 1.0, 3) < 2e-6, "defaults " + at);
            assertTrue(run(settings(0.9, 0.1, true, false, false), shape, 6, 1.0, 0.05, 4) < 2e-6, "beta1, decay, lr " + at);
            assertTrue(run(settings(null, 0, false, true, true), shape, 6, 1.0, 1.0, 5) < 2e-6, "warmup_init " + at);
            // tiny gradients: the update's RMS stays under the clip threshold only where eps1 does not dominate
            assertTrue(run(settings(null, 0, true, false, false), shape, 4, 1e-3, 0.2, 6) < 2e-6, "small gradients " + at);
        }
    }

    @Test
    void aWorkedFirstStep() {
        // g ≡ c on a [3, 4] matrix: row = col = c² (β2t = 0 at t = 1), so u = sign(c) and RMS(u) = 1, not clipped;
        // p ≡ a: the rate is 1e-2 · |a|, so p ← a − 1e-2·|a|·sign(c)
        Parameter p = Parameter.trainable(Tensor.full(dev.loraid.tensor.DType.F32, -0.5, 3, 4));
        Adafactor opt = new Adafactor(List.of(new ParamGroup("g", Map.of("w", p), 1e-4, 0)), Adafactor.Settings.defaults());
        setGrad(p, Tensor.full(dev.loraid.tensor.DType.F32, 2.0, 3, 4));
        opt.step();
        float[] expected = new float[12];
        Arrays.fill(expected, (float) (-0.5 - 1e-2 * 0.5));
        assertArrayEquals(expected, p.data().toFloatArray(), 1e-7f);
        assertEquals(5e-3, opt.appliedLr(0), 1e-9, "with relative steps the group's 1e-4 is not the rate");
        // a zero parameter (a fresh lora_up) is scaled by eps2 instead: 1e-2 · 1e-3
        Parameter zero = Parameter.trainable(Tensor.zeros(dev.loraid.tensor.DType.F32, 2, 2));
        Adafactor z = new Adafactor(List.of(new ParamGroup("g", Map.of("w", zero), 1e-4, 0)), Adafactor.Settings.defaults());
        setGrad(zero, Tensor.full(dev.loraid.tensor.DType.F32, -3.0, 2, 2));
        z.step();
        assertArrayEquals(new float[] {1e-5f, 1e-5f, 1e-5f, 1e-5f}, zero.data().toFloatArray(), 1e-12f);
    }

    @Test
    void aSavedStateResumesTheSameTrajectory() {
        long[] shape = {6, 10};
        Adafactor.Settings s = settings(0.9, 0.01, true, true, false);
        Parameter straight = Parameter.trainable(f32(21, shape));
        Parameter resumed = Parameter.trainable(straight.data().copy());
        Adafactor a = new Adafactor(List.of(new ParamGroup("g", Map.of("w", straight), 1, 0.01)), s);
        for (int t = 0; t < 3; t++) {
            setGrad(straight, f32(30 + t, shape));
            a.step();
        }
        Map<String, Tensor> saved = new LinkedHashMap<>();
        a.stateDict().forEach((k, v) -> saved.put(k, v.copy()));
        assertEquals(List.of("w.exp_avg_sq_row", "w.exp_avg_sq_col", "w.exp_avg", "w.step"), List.copyOf(saved.keySet()));
        assertArrayEquals(new long[] {6}, saved.get("w.exp_avg_sq_row").shape().toArray());
        assertArrayEquals(new long[] {10}, saved.get("w.exp_avg_sq_col").shape().toArray());
        resumed.data().backend().copy(straight.data(), resumed.data());
        Adafactor b = new Adafactor(List.of(new ParamGroup("g", Map.of("w", resumed), 1, 0.01)), s);
        b.loadStateDict(StateSource.of(saved));
        assertEquals(3, b.stepCount("w"));
        for (int t = 3; t < 6; t++) {
            setGrad(straight, f32(30 + t, shape));
            setGrad(resumed, f32(30 + t, shape));
            a.step();
            b.step();
        }
        assertArrayEquals(straight.data().toFloatArray(), resumed.data().toFloatArray());
        Map<String, Tensor> noRow = new LinkedHashMap<>(saved);
        noRow.remove("w.exp_avg_sq_row");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Adafactor(
            List.of(new ParamGroup("g", Map.of("w", Parameter.trainable(f32(1, shape))), 1, 0)), s).loadStateDict(StateSource.of(noRow)));
        assertTrue(e.getMessage().contains("w.exp_avg_sq_row: missing"), e.getMessage());
    }

    @Test
    void refusesSettingsTransformersRefuses() {
        assertThrows(IllegalArgumentException.class, () -> settings(null, 0, true, false, true));
        assertThrows(IllegalArgumentException.class, () -> settings(1.0, 0, true, true, false));
        assertThrows(IllegalArgumentException.class, () -> new Adafactor.Settings(1e-30, 1e-3, 0, -0.8, null, 0, true, true, false));
    }
}
