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
    void segment_conversions_match_the_tensor_casts() {
        java.util.Random rng = new java.util.Random(3);
        float[] v = new float[1000];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextGaussian() * Math.pow(10, rng.nextInt(8) - 4));
        }
        v[7] = Float.NaN;
        v[8] = Float.NEGATIVE_INFINITY;
        java.lang.foreign.MemorySegment f32 = java.lang.foreign.Arena.ofAuto().allocate(4000);
        java.lang.foreign.MemorySegment out = java.lang.foreign.Arena.ofAuto().allocate(4000);
        for (DType d : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            Tensor src = Floats.write(v, Shape.of(10, 100), d);
            Floats.toF32(src, f32);
            Tensor back = Floats.fromF32(f32, Shape.of(10, 100), d, out);
            float[] expect = Floats.read(src);
            for (int i = 0; i < v.length; i++) {
                assertEquals(expect[i], f32.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, i), 0f, d + " " + i);
            }
            assertEquals(-1, src.storage().segment().mismatch(back.storage().segment()), d.toString());
            // the cast matches the tensor module's round-to-nearest-even
            Tensor ref = Tensor.of(v, 10, 100).to(d);
            Tensor mine = Floats.fromF32(java.lang.foreign.MemorySegment.ofArray(v), Shape.of(10, 100), d, out);
            assertEquals(-1, ref.storage().segment().mismatch(mine.storage().segment()), d.toString());
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
