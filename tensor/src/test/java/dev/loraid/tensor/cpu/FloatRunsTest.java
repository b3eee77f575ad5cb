package dev.loraid.tensor.cpu;

import dev.loraid.tensor.DType;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The vector widening of narrow floats, exhaustively against the scalar decoders behind {@link DType#read}. */
class FloatRunsTest {
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "F16", "F8_E4M3", "F8_E5M2"})
    void everyBitPatternWidensLikeTheScalarDecoder(DType dtype) {
        int count = 1 << (8 * dtype.byteSize());
        MemorySegment seg = Arena.ofAuto().allocate((long) count * dtype.byteSize() + 16);
        for (int i = 0; i < count; i++) {
            if (dtype.byteSize() == 2) {
                seg.set(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, 2L * i, (short) i);
            } else {
                seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) i);
            }
        }
        // offset 1 element and an odd length exercise both the vector loop and the scalar tail
        float[] out = new float[count + 3];
        FloatRuns.read(seg, dtype, 1, 1, out, 2, count - 1);
        for (int i = 1; i < count; i++) {
            float expected = (float) dtype.read(seg, (long) i * dtype.byteSize());
            float got = out[i + 1];
            if (Float.isNaN(expected)) {
                assertEquals(true, Float.isNaN(got), dtype + " pattern " + Integer.toHexString(i));
            } else {
                assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(got),
                    dtype + " pattern 0x" + Integer.toHexString(i) + ": " + got + " vs " + expected);
            }
        }
    }

    /** Strided and broadcast runs, and Tensor.toFloatArray over views, decode like the scalar DType.read. */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F64", "F32", "BF16", "F16", "F8_E4M3", "F8_E5M2", "I64", "I32", "U8"})
    void stridedRunsAndViewsMatchTheScalarDecoder(DType dtype) {
        java.util.Random rnd = new java.util.Random(dtype.ordinal());
        dev.loraid.tensor.Tensor t = dev.loraid.tensor.Tensor.zeros(dtype, 7, 3, 37);
        for (int i = 0; i < 7 * 3 * 37; i++) {
            t.setDouble(rnd.nextGaussian() * 20, i / (3 * 37), i / 37 % 3, i % 37);
        }
        for (dev.loraid.tensor.Tensor v : new dev.loraid.tensor.Tensor[] {t, t.transpose(0, 2), t.narrow(2, 3, 30),
            t.narrow(1, 1, 1).expand(7, 4, 37), t.transpose(1, 2).narrow(0, 2, 3)}) {
            double[] expected = v.toDoubleArray();
            float[] got = v.toFloatArray();
            assertEquals(expected.length, got.length);
            for (int i = 0; i < got.length; i++) {
                assertEquals(Float.floatToIntBits((float) expected[i]), Float.floatToIntBits(got[i]),
                    dtype + " " + v + " element " + i);
            }
        }
        MemorySegment seg = t.storage().segment();
        float[] row = new float[5];
        FloatRuns.read(seg, dtype, 4, 0, row, 0, 5);
        for (float f : row) {
            assertEquals(Float.floatToIntBits((float) dtype.read(seg, 4L * dtype.byteSize())), Float.floatToIntBits(f));
        }
    }
}
