package dev.loraid.autograd;

import dev.loraid.autograd.optim.AdamW;
import dev.loraid.autograd.optim.GradClip;
import dev.loraid.autograd.optim.ParamGroup;
import dev.loraid.autograd.optim.Sgd;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static dev.loraid.autograd.RandomTensors.f32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Optimizer updates against the published update rules, computed here in double precision. */
class OptimizerTest {
    /** Sets p.grad to exactly g: the gradient of Σ p·g. */
    private static void setGrad(Parameter p, Tensor g) {
        p.zeroGrad();
        p.mul(Var.constant(g)).sum().backward();
    }

    @Test
    void adamwMatchesPyTorchsAlgorithmOnAFixedGradientSequence() {
        Parameter a = Parameter.trainable(f32(1, 3, 4));
        Parameter b = Parameter.trainable(f32(2, 5));
        double[] lrs = {1e-2, 3e-3};
        double[] wds = {0.01, 0.0};
        AdamW opt = new AdamW(List.of(new ParamGroup("a", Map.of("a", a), lrs[0], wds[0]),
            new ParamGroup("b", Map.of("b", b), lrs[1], wds[1])), 0.9, 0.999, 1e-8);
        Parameter[] ps = {a, b};
        double[][] ref = {a.data().toDoubleArray(), b.data().toDoubleArray()};
        double[][] m = {new double[12], new double[5]};
        double[][] v = {new double[12], new double[5]};
        for (int t = 1; t <= 12; t++) {
            for (int k = 0; k < 2; k++) {
                Tensor g = f32(100 + 10 * t + k, ps[k].shape().toArray());
                setGrad(ps[k], g);
                double[] gd = g.toDoubleArray();
                // torch.optim.AdamW (single-tensor path): decay, moments, bias-corrected step
                double bc1 = 1 - Math.pow(0.9, t);
                double bc2 = 1 - Math.pow(0.999, t);
                for (int i = 0; i < gd.length; i++) {
                    ref[k][i] *= 1 - lrs[k] * wds[k];
                    m[k][i] = 0.9 * m[k][i] + 0.1 * gd[i];
                    v[k][i] = 0.999 * v[k][i] + 0.001 * gd[i] * gd[i];
                    double denom = Math.sqrt(v[k][i]) / Math.sqrt(bc2) + 1e-8;
                    ref[k][i] -= lrs[k] / bc1 * m[k][i] / denom;
                }
            }
            opt.step();
            for (int k = 0; k < 2; k++) {
                double[] got = ps[k].data().toDoubleArray();
                for (int i = 0; i < got.length; i++) {
                    assertEquals(ref[k][i], got[i], 1e-6 * Math.max(1, Math.abs(ref[k][i])), "param " + k + " step " + t + " element " + i);
                }
            }
        }
        assertEquals(12, opt.stepCount("a"));
    }

    @Test
    void sgdWithMomentumAndWeightDecayMatchesPyTorch() {
        Parameter p = Parameter.trainable(f32(3, 6));
        double lr = 0.05;
        double mu = 0.9;
        double wd = 0.1;
        Sgd opt = new Sgd(List.of(new ParamGroup("g", Map.of("p", p), lr, wd)), mu, false);
        double[] ref = p.data().toDoubleArray();
        double[] buf = null;
        for (int t = 1; t <= 6; t++) {
            Tensor g = f32(200 + t, 6);
            setGrad(p, g);
            double[] gd = g.toDoubleArray();
            double[] d = new double[6];
            for (int i = 0; i < 6; i++) {
                d[i] = gd[i] + wd * ref[i];
            }
            if (buf == null) {
                buf = d.clone();
            } else {
                for (int i = 0; i < 6; i++) {
                    buf[i] = mu * buf[i] + d[i];
                }
            }
            for (int i = 0; i < 6; i++) {
                ref[i] -= lr * buf[i];
            }
            opt.step();
            double[] got = p.data().toDoubleArray();
            for (int i = 0; i < 6; i++) {
                assertEquals(ref[i], got[i], 1e-6, "step " + t + " element " + i);
            }
        }
    }

    @Test
    void parametersWithoutGradientAreSkipped() {
        Parameter p = Parameter.trainable(f32(4, 3));
        double[] before = p.data().toDoubleArray();
        new AdamW(Map.of("p", p), 0.1).step();
        assertNull(p.grad());
        assertEquals(before[0], p.data().getDouble(0));
    }

    @Test
    void globalNormClippingScalesAllGradientsTogether() {
        Parameter a = Parameter.trainable(Tensor.of(new float[] {0, 0}, 2));
        Parameter b = Parameter.trainable(Tensor.of(new float[] {0}, 1));
        setGrad(a, Tensor.of(new float[] {3, 0}, 2));
        setGrad(b, Tensor.of(new float[] {4}, 1));
        double norm = GradClip.clipGlobalNorm(List.of(a, b), 1.0);
        assertEquals(5.0, norm, 1e-9);
        double coef = 1.0 / (5.0 + 1e-6);
        assertEquals(3 * coef, a.grad().getDouble(0), 1e-7);
        assertEquals(4 * coef, b.grad().getDouble(0), 1e-7);
        // below the threshold nothing changes
        double again = GradClip.clipGlobalNorm(List.of(a, b), 10.0);
        assertEquals(5 * coef, again, 1e-6);
        assertEquals(4 * coef, b.grad().getDouble(0), 1e-7);
    }

    /**
     * {@link dev.loraid.autograd.optim.Optimizer#zeroGrad} clears to none, as PyTorch's default: a parameter no backward
     * pass reaches before the next step is left as it is (no weight decay, no moment decay, no step counted), while
     * one that got a gradient is updated, its kept buffer written over, not added to.
     */
    @Test
    void aParameterWithoutAGradientSinceTheLastStepIsLeftAlone() {
        Parameter reached = Parameter.trainable(Tensor.of(new float[] {1, 2, 3}, 3));
        Parameter skipped = Parameter.trainable(Tensor.of(new float[] {4, 5, 6}, 3));
        AdamW opt = new AdamW(Map.of("reached", reached, "skipped", skipped), 0.1);
        Tensor ones = Tensor.of(new float[] {1, 1, 1}, 3);
        setGrad(reached, ones);
        setGrad(skipped, ones);
        opt.step();
        opt.zeroGrad();
        assertNull(skipped.grad());
        double[] before = skipped.data().toDoubleArray();
        double[] reachedBefore = reached.data().toDoubleArray();
        reached.mul(Var.constant(Tensor.of(new float[] {2, 2, 2}, 3))).sum().backward(); // into the kept buffer: 2, not 1 + 2
        assertArrayEquals(new double[] {2, 2, 2}, reached.grad().toDoubleArray(), 0);
        opt.step();
        assertArrayEquals(before, skipped.data().toDoubleArray(), 0);
        assertEquals(1L, opt.stateDict().get("skipped.step").getLong());
        assertEquals(2L, opt.stateDict().get("reached.step").getLong());
        assertTrue(reachedBefore[0] != reached.data().toDoubleArray()[0]);
    }
}
