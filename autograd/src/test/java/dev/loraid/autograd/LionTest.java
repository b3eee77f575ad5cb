package dev.loraid.autograd;

import dev.loraid.autograd.optim.Lion;
import dev.loraid.autograd.optim.ParamGroup;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.loraid.autograd.RandomTensors.f32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Lion} against a transcription of lion-pytorch 0.2.3's {@code update_fn} in doubles (decay, the sign of the
 * interpolated momentum, then the momentum), with weight decay plain and decoupled, a zero gradient entry (sign 0), and a
 * rate that changes between steps; resume from a saved state.
 */
class LionTest {

    private static void setGrad(Parameter p, float[] g) {
        p.zeroGrad();
        p.mul(Var.constant(Tensor.of(g, p.shape().toArray()))).sum().backward();
    }

    private static void check(double wd, boolean decoupled) {
        long[] shape = {5, 6};
        Parameter p = Parameter.trainable(f32(1, shape));
        ParamGroup group = new ParamGroup("g", Map.of("w", p), 3e-2, wd);
        Lion lion = new Lion(List.of(group), 0.9, 0.99, decoupled);
        double[] x = p.data().toDoubleArray();
        double[] m = new double[x.length];
        for (int t = 0; t < 6; t++) {
            double lr = 3e-2 * (1 - 0.1 * t); // as a schedule would set it
            group.setLr(lr);
            float[] g = f32(10 + t, shape).toFloatArray();
            g[7] = 0; // with m = 0 on the first step: sign 0, no move
            setGrad(p, g);
            lion.step();
            double decay = decoupled ? wd / 3e-2 : wd;
            for (int i = 0; i < x.length; i++) {
                x[i] *= 1 - lr * decay;
                x[i] -= lr * Math.signum(0.9 * m[i] + 0.1 * g[i]);
                m[i] = 0.99 * m[i] + 0.01 * g[i];
            }
            double[] ours = p.data().toDoubleArray();
            for (int i = 0; i < x.length; i++) {
                assertEquals(x[i], ours[i], 1e-6, "step " + (t + 1) + " element " + i);
            }
        }
    }

    @Test
    void matchesLionPytorch() {
        check(0, false);
        check(0.1, false);
        check(1e-3, true);
    }

    @Test
    void aSavedStateResumesTheSameTrajectory() {
        Parameter a = Parameter.trainable(f32(3, 4, 4));
        Parameter b = Parameter.trainable(a.data().copy());
        Lion one = new Lion(List.of(new ParamGroup("g", Map.of("w", a), 1e-2, 0.01)), 0.9, 0.99, false);
        for (int t = 0; t < 3; t++) {
            setGrad(a, f32(20 + t, 4, 4).toFloatArray());
            one.step();
        }
        Map<String, Tensor> saved = new LinkedHashMap<>();
        one.stateDict().forEach((k, t) -> saved.put(k, t.copy()));
        assertTrue(saved.containsKey("w.exp_avg"), saved.keySet().toString());
        b.data().backend().copy(a.data(), b.data());
        Lion two = new Lion(List.of(new ParamGroup("g", Map.of("w", b), 1e-2, 0.01)), 0.9, 0.99, false);
        two.loadStateDict(StateSource.of(saved));
        for (int t = 3; t < 6; t++) {
            float[] g = f32(20 + t, 4, 4).toFloatArray();
            setGrad(a, g);
            setGrad(b, g);
            one.step();
            two.step();
        }
        assertArrayEquals(a.data().toFloatArray(), b.data().toFloatArray());
    }
}
