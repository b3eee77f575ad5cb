package dev.loraid.tensor.cpu.gemm;

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
}
