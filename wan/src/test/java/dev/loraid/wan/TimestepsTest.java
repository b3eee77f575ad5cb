package dev.loraid.wan;

import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

class TimestepsTest {
    /** The golden Wan 2.2 case mimics TI2V: frame 0's six tokens at t = 0, the rest at 500. */
    @Test
    void firstLatentFrameOfAnImageConditionedCallIsAtTZero() throws IOException {
        try (SafetensorsFile f = Golden.open("wan_tiny_forward_v22.safetensors")) {
            assertArrayEquals(f.tensor("t").toDoubleArray(), Timesteps.imageConditioned(new int[] {2, 2, 3}, 500, true));
        }
        assertArrayEquals(new double[] {7, 7, 7, 7}, Timesteps.imageConditioned(new int[] {2, 1, 2}, 7, false));
    }
}
