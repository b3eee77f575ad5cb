package dev.loraid.wan.vae;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The attention block's composed path (matmul, softmax, matmul per frame: what runs where a backend's fused attention
 * does not take the head dim) against the fused op, on the CPU, over the block's own [T, 1, H·W, C] views of one
 * [3C, T, H, W] buffer.
 */
class VaeAttentionBlockTest {
    @Test
    void composedAttentionMatchesTheFusedOp() {
        long c = 5;
        long t = 2;
        long hw = 13;
        float[] values = new float[(int) (3 * c * t * hw)];
        Random rnd = new Random(7);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rnd.nextGaussian();
        }
        Tensor qkv = Tensor.of(values, 3 * c, t, hw);
        Tensor[] qkvViews = new Tensor[3];
        for (int part = 0; part < 3; part++) {
            qkvViews[part] = new Tensor(qkv.storage(), qkv.dtype(), Shape.of(t, 1, hw, c),
                new long[] {hw, t * hw, 1, t * hw}, part * c * t * hw);
        }
        Backend cpu = Backends.cpu();
        double scale = 1 / Math.sqrt(c);
        Tensor fused = Tensor.empty(DType.F32, t, 1, hw, c);
        cpu.attention(qkvViews[0], qkvViews[1], qkvViews[2], scale, null, fused, null);
        Tensor composed = Tensor.empty(DType.F32, t, 1, hw, c);
        VaeAttentionBlock.composedAttention(cpu, qkvViews[0], qkvViews[1], qkvViews[2], scale, composed);
        double[] a = fused.toDoubleArray();
        double[] b = composed.toDoubleArray();
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        assertEquals(0, max, 1e-5, "composed vs fused attention, max abs difference");
    }
}
