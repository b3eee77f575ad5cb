package dev.loraid.autograd;

import dev.loraid.autograd.optim.AdamW;
import dev.loraid.autograd.optim.ParamGroup;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.DynamicQuant8;
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
 * {@link AdamW#eightBit} (bitsandbytes' AdamW8bit) as an optimizer: on a quadratic it follows fp32 AdamW's trajectory
 * within the 8-bit moments' error, with a quarter of the state bytes; small parameters keep fp32 moments and take
 * exactly AdamW's step; a saved state resumes the very same trajectory, and a state of the other kind is refused.
 */
class AdamW8bitTest {
    private static final int ROWS = 64;
    private static final int COLS = 96; // 6144 elements: above bitsandbytes' min_8bit_size
    private static final double LR = 1e-2;

    /** Sets p.grad to p − target, the gradient of ½·Σ (p − target)², as the gradient of Σ p·(p − target)₀. */
    private static void quadraticGrad(Parameter p, Tensor target) {
        float[] a = p.data().toFloatArray();
        float[] t = target.toFloatArray();
        for (int i = 0; i < a.length; i++) {
            a[i] -= t[i];
        }
        p.zeroGrad();
        p.mul(Var.constant(Tensor.of(a, p.shape().toArray()))).sum().backward();
    }

    private static double loss(Parameter p, Tensor target) {
        double[] a = p.data().toDoubleArray();
        double[] t = target.toDoubleArray();
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += 0.5 * (a[i] - t[i]) * (a[i] - t[i]);
        }
        return s;
    }

    private static AdamW optimizer(boolean eightBit, Map<String, Parameter> params) {
        List<ParamGroup> groups = List.of(new ParamGroup("g", params, LR, 0.01));
        return eightBit ? AdamW.eightBit(groups, 0.9, 0.999, 1e-8) : new AdamW(groups, 0.9, 0.999, 1e-8);
    }

    @Test
    void followsFp32AdamWOnAQuadraticWithAQuarterOfTheState() {
        Tensor target = f32(7, ROWS, COLS);
        Parameter full = Parameter.trainable(f32(8, ROWS, COLS));
        Parameter quant = Parameter.trainable(full.data().copy());
        AdamW fp32 = optimizer(false, Map.of("p", full));
        AdamW eight = optimizer(true, Map.of("p", quant));
        double start = loss(full, target);
        double worst = 0;
        for (int t = 1; t <= 80; t++) {
            quadraticGrad(full, target);
            quadraticGrad(quant, target);
            fp32.step();
            eight.step();
            double[] a = full.data().toDoubleArray();
            double[] b = quant.data().toDoubleArray();
            for (int i = 0; i < a.length; i++) {
                worst = Math.max(worst, Math.abs(a[i] - b[i]));
            }
        }
        double lossFull = loss(full, target);
        double lossQuant = loss(quant, target);
        assertTrue(lossFull < 0.2 * start, "fp32 AdamW converges: " + start + " -> " + lossFull);
        assertTrue(Math.abs(lossQuant - lossFull) < 0.1 * lossFull, "8-bit loss " + lossQuant + " vs fp32 " + lossFull);
        // 80 steps of about lr each: the trajectories stay within a few steps of each other (measured: 0.044, loss 3 % apart)
        assertTrue(worst < 8 * LR, "largest parameter difference " + worst);

        Map<String, Tensor> s = eight.stateDict();
        long blocks = DynamicQuant8.blocks((long) ROWS * COLS);
        assertEquals(DType.U8, s.get("p.exp_avg").dtype());
        assertEquals(DType.U8, s.get("p.exp_avg_sq").dtype());
        assertEquals(List.of(blocks), List.of(s.get("p.exp_avg_absmax").shape().dim(0)));
        long bytes = s.values().stream().mapToLong(x -> x.numel() * x.dtype().byteSize()).sum();
        long fp32Bytes = fp32.stateDict().values().stream().mapToLong(x -> x.numel() * x.dtype().byteSize()).sum();
        assertTrue(bytes * 3.9 < fp32Bytes, bytes + " bytes of 8-bit state vs " + fp32Bytes);
        assertEquals(bytes - Long.BYTES, eight.stateBytes(), "the moments' bytes, as the trainer reports them (no step count)");
        assertEquals(fp32Bytes - Long.BYTES, fp32.stateBytes());
    }

    @Test
    void smallParametersKeepFp32MomentsAndAdamWsStep() {
        Tensor target = f32(9, AdamW.MIN_8BIT_SIZE - 1);
        Parameter a = Parameter.trainable(f32(10, AdamW.MIN_8BIT_SIZE - 1));
        Parameter b = Parameter.trainable(a.data().copy());
        AdamW plain = optimizer(false, Map.of("p", a));
        AdamW eight = optimizer(true, Map.of("p", b));
        for (int t = 0; t < 5; t++) {
            quadraticGrad(a, target);
            quadraticGrad(b, target);
            plain.step();
            eight.step();
        }
        assertArrayEquals(a.data().toFloatArray(), b.data().toFloatArray());
        assertEquals(DType.F32, eight.stateDict().get("p.exp_avg").dtype());
    }

    @Test
    void aSavedStateResumesTheSameTrajectory() {
        Tensor target = f32(11, ROWS, COLS);
        Parameter p = Parameter.trainable(f32(12, ROWS, COLS));
        AdamW first = optimizer(true, Map.of("p", p));
        for (int t = 0; t < 4; t++) {
            quadraticGrad(p, target);
            first.step();
        }
        Map<String, Tensor> saved = new LinkedHashMap<>();
        first.stateDict().forEach((k, v) -> saved.put(k, v.copy()));
        Parameter resumed = Parameter.trainable(p.data().copy());
        AdamW second = optimizer(true, Map.of("p", resumed));
        second.loadStateDict(StateSource.of(saved));
        assertEquals(4, second.stepCount("p"));
        for (int t = 0; t < 4; t++) {
            quadraticGrad(p, target);
            quadraticGrad(resumed, target);
            first.step();
            second.step();
        }
        assertArrayEquals(p.data().toFloatArray(), resumed.data().toFloatArray());

        Map<String, Tensor> fp32State = new LinkedHashMap<>();
        AdamW plain = optimizer(false, Map.of("p", Parameter.trainable(f32(13, ROWS, COLS))));
        quadraticGrad(plain.groups().get(0).params().get("p"), target);
        plain.step();
        plain.stateDict().forEach((k, v) -> fp32State.put(k, v.copy()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> optimizer(true, Map.of("p", Parameter.trainable(f32(14, ROWS, COLS)))).loadStateDict(StateSource.of(fp32State)));
        assertTrue(e.getMessage().contains("the state's moments are F32 (p.exp_avg: saved by AdamW) but this run's optimizer "
            + "keeps them U8 (AdamW8bit)"), e.getMessage());
        Map<String, Tensor> noScales = new LinkedHashMap<>(saved);
        noScales.remove("p.exp_avg_sq_absmax");
        e = assertThrows(IllegalArgumentException.class, () -> optimizer(true, Map.of("p", Parameter.trainable(f32(15, ROWS, COLS))))
            .loadStateDict(StateSource.of(noScales)));
        assertTrue(e.getMessage().contains("p.exp_avg_sq_absmax: missing"), e.getMessage());
    }
}
