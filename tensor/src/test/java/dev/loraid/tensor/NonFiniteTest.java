package dev.loraid.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;

class NonFiniteTest {
    /**
     * The vector scan of {@link NonFinite#firstIndex} against the definition, element by element: one
     * NaN or ±Inf planted at every index of a run long enough for whole vectors and a scalar tail, in F32, BF16 and F16,
     * among ones and among the largest finite values (which share all but one exponent bit).
     */
    @Test
    void firstNonFiniteFindsEveryPosition() {
        int n = 3 * 64 + 5;
        for (DType t : new DType[] {DType.F32, DType.BF16, DType.F16}) {
            float big = t == DType.F16 ? 65504f : t == DType.BF16 ? MiniFloats.bf16ToFloat((short) 0x7F7F) : Float.MAX_VALUE;
            for (float fill : new float[] {1f, -big}) {
                for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                    for (int at = 0; at < n; at++) {
                        float[] v = new float[n];
                        Arrays.fill(v, fill);
                        v[at] = bad;
                        assertEquals(at, NonFinite.firstIndex(bytes(v, t), t), t + " " + bad + " at " + at + " among " + fill);
                    }
                }
                float[] finite = new float[n];
                Arrays.fill(finite, fill);
                assertEquals(-1, NonFinite.firstIndex(bytes(finite, t), t), t + " all " + fill);
            }
        }
    }

    /** {@code v} cast to {@code t}, exactly its bytes. */
    private static MemorySegment bytes(float[] v, DType t) {
        return Tensor.of(v, v.length).to(t).storage().segment().asSlice(0, (long) v.length * t.byteSize());
    }
}
