package dev.loraid.wan;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** {@link WanWeights#random}: every key of the config with its shape, the same numbers for a seed, norms near 1. */
class WanWeightsRandomTest {
    @Test
    void everyKeyOfTheConfigAtAWorkableScale() {
        WanWeights a = WanWeights.random(WanPresets.TINY_I2V_V22, 5);
        WanWeights b = WanWeights.random(WanPresets.TINY_I2V_V22, 5);
        WanWeights c = WanWeights.random(WanPresets.TINY_I2V_V22, 6);
        assertEquals(WanKeys.expectedShapes(WanPresets.TINY_I2V_V22).keySet(), a.tensors().keySet());
        WanKeys.expectedShapes(WanPresets.TINY_I2V_V22).forEach((k, shape) -> {
            assertArrayEquals(shape, a.get(k).shape().toArray(), k);
            assertArrayEquals(a.get(k).toFloatArray(), b.get(k).toFloatArray(), k);
        });
        assertFalse(Arrays.equals(a.get("blocks.0.self_attn.q.weight").toFloatArray(),
            c.get("blocks.0.self_attn.q.weight").toFloatArray()));
        double mean = Arrays.stream(a.get("blocks.0.norm3.weight").toDoubleArray()).average().orElseThrow();
        assertTrue(Math.abs(mean - 1) < 0.1, "a norm's weights near 1: mean " + mean);
        // a [64, 64] Linear: N(0, 1/64), so its mean square is near 1/64
        double ms = Arrays.stream(a.get("blocks.0.self_attn.q.weight").toDoubleArray()).map(v -> v * v).average().orElseThrow();
        assertEquals(1.0 / 64, ms, 0.2 / 64);
        WanModel model = WanModel.load(WanPresets.TINY_I2V_V22, a);
        assertEquals(WanPresets.TINY_I2V_V22, model.config());
    }
}
