package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CudaLayoutTest {
    @Test
    void contiguousOperandsMergeToOneDimension() {
        long[][] l = CudaLayout.coalesce(new long[] {2, 3, 4}, new long[] {12, 4, 1}, new long[] {12, 4, 1});
        assertArrayEquals(new long[] {24}, l[0]);
        assertArrayEquals(new long[] {1}, l[1]);
        assertArrayEquals(new long[] {1}, l[2]);
    }

    @Test
    void broadcastAndTransposedOperandsKeepTheirSplits() {
        // a: [2, 3, 4] contiguous; b: a [4] bias broadcast (strides 0, 0, 1); out: contiguous
        long[][] l = CudaLayout.coalesce(new long[] {2, 3, 4}, new long[] {12, 4, 1}, new long[] {0, 0, 1},
            new long[] {12, 4, 1});
        assertArrayEquals(new long[] {6, 4}, l[0]);
        assertArrayEquals(new long[] {4, 1}, l[1]);
        assertArrayEquals(new long[] {0, 1}, l[2]);
        // a transposed [3, 2] view of a [2, 3] tensor: nothing merges
        Tensor t = Tensor.zeros(DType.F32, 2, 3).transpose(0, 1);
        long[][] tl = CudaLayout.coalesce(t.shape().toArray(), t.strides());
        assertArrayEquals(new long[] {3, 2}, tl[0]);
        assertArrayEquals(new long[] {1, 3}, tl[1]);
    }

    @Test
    void sizeOneDimensionsDropAndScalarsHaveRankZero() {
        long[][] l = CudaLayout.coalesce(new long[] {1, 5, 1}, new long[] {99, 1, 7});
        assertArrayEquals(new long[] {5}, l[0]);
        assertArrayEquals(new long[] {1}, l[1]);
        assertEquals(0, CudaLayout.coalesce(new long[0], new long[0])[0].length);
    }

    @Test
    void packWritesTheKernelStruct() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = CudaLayout.pack(a, new long[] {2, 3}, new long[] {3, 1}, DType.BF16);
            assertEquals(136, s.byteSize());
            assertEquals(2, s.getAtIndex(ValueLayout.JAVA_LONG, 0));
            assertEquals(3, s.getAtIndex(ValueLayout.JAVA_LONG, 1));
            assertEquals(3, s.getAtIndex(ValueLayout.JAVA_LONG, 8));
            assertEquals(1, s.getAtIndex(ValueLayout.JAVA_LONG, 9));
            assertEquals(2, s.get(ValueLayout.JAVA_INT, 128));
            assertEquals(3, s.get(ValueLayout.JAVA_INT, 132)); // DT_BF16
            assertThrows(IllegalArgumentException.class, () -> CudaLayout.pack(a, new long[9], new long[9], DType.F32));
        }
    }
}
