package dev.loraid.wan;

import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import org.junit.jupiter.api.Test;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The float64 pieces (sinusoid, RoPE angles) against the golden files, at the README's 1e-6. */
class PositionTablesGoldenTest {
    @Test
    void sinusoidMatchesForBothTimestepsAndPerTokenT() throws IOException {
        for (String file : new String[] {"wan_tiny_forward.safetensors", "wan_tiny_forward_t2.safetensors",
                "wan_tiny_forward_v22.safetensors"}) {
            try (SafetensorsFile f = Golden.open(file)) {
                double[] t = f.tensor("t").toDoubleArray();
                Tensor got = Sinusoid.tensor(t, WanPresets.TINY.freqDim(), DType.F64);
                Golden.assertClose(file + " sinusoid", f.tensor("sinusoid"), got, 1e-6, 0);
            }
        }
    }

    @Test
    void ropeTablesMatchTheGoldenGrid() throws IOException {
        try (SafetensorsFile f = Golden.open("wan_tiny_forward.safetensors")) {
            Tensor grid = f.tensor("grid_sizes");
            long[] g = {grid.getLong(0), grid.getLong(1), grid.getLong(2)};
            RopeTables r = RopeTables.of(WanPresets.TINY.headDim(), (int) g[0], (int) g[1], (int) g[2]);
            Golden.assertClose("rope_cos", f.tensor("rope_cos"), r.cos(), 1e-6, 0);
            Golden.assertClose("rope_sin", f.tensor("rope_sin"), r.sin(), 1e-6, 0);
        }
    }

    /** d = 128 (every released model): the 44/42/42 channel split and exponent dims of spec §2.8. */
    @Test
    void releasedHeadDimSplitsPairs22_21_21() {
        RopeTables r = RopeTables.of(128, 2, 2, 2);
        // token (fi=1, hi=0, wi=0) = row 4: frame pairs 0..21 rotate by 1·ω, height/width pairs by 0
        Tensor cos = r.cos();
        assertEquals(Math.cos(1.0 / Math.pow(10000, 2.0 * 21 / 44)), cos.getDouble(4, 21), 1e-15);
        assertEquals(1.0, cos.getDouble(4, 22), 0);
        // token (0, 1, 0) = row 2: pair 22 is height k=0 (angle 1), pair 42 is height k=20 with m = 42
        assertEquals(Math.cos(1.0), cos.getDouble(2, 22), 1e-15);
        assertEquals(Math.cos(1.0 / Math.pow(10000, 40.0 / 42)), cos.getDouble(2, 42), 1e-15);
        assertEquals(1.0, cos.getDouble(2, 43), 0);
        // token (0, 0, 1) = row 1: pair 43 is width k=0
        assertEquals(Math.cos(1.0), cos.getDouble(1, 43), 1e-15);
    }
}
