package dev.loraid.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Bulk fp32 conversion and the NaN/Inf scan, against the tensor module's element access. */
class FloatsTest {
    @Test
    void round_trips_and_matches_element_access() {
        float[] v = {0f, -1.5f, 3.14159f, 1e-8f, 65504f, -0.0f};
        for (DType d : new DType[] {DType.F32, DType.BF16, DType.F16, DType.F64}) {
            Tensor t = Floats.write(v, Shape.of(2, 3), d);
            float[] back = Floats.read(t);
            for (int i = 0; i < v.length; i++) {
                assertEquals(t.getFloat(i / 3, i % 3), back[i], 0.0, d + " element " + i);
            }
            // a non-contiguous view goes element-wise
            assertArrayEquals(new float[] {back[0], back[3], back[1], back[4], back[2], back[5]}, Floats.read(t.transpose(0, 1)), 0f);
        }
    }

    @Test
    void finds_the_first_non_finite_element_in_place() {
        for (DType d : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            assertEquals(-1, Floats.firstNonFinite(Floats.write(new float[] {1, 2, 3, 4}, Shape.of(4), d)));
            assertEquals(2, Floats.firstNonFinite(Floats.write(new float[] {1, 2, Float.NaN, Float.POSITIVE_INFINITY}, Shape.of(4), d)));
            assertEquals(1, Floats.firstNonFinite(Floats.write(new float[] {1, Float.NEGATIVE_INFINITY, 3, 4}, Shape.of(4), d)));
        }
    }
}
