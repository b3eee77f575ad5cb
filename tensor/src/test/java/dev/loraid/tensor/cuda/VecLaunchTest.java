package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** Which elementwise calls take the vectorized kernels, decided on the host (no GPU needed). */
class VecLaunchTest {
    private static final Tensor BF16 = Tensor.zeros(DType.BF16, 1);
    private static final Tensor F32 = Tensor.zeros(DType.F32, 1);

    private static VecLaunch of(long[] dims, long[][] strides, Tensor[] types, long... pointers) {
        return VecLaunch.of(dims, strides, types, pointers);
    }

    @Test
    void rowModulationOverContiguousActivations() {
        // [L, C] bf16 ⊙ [C] f32 → [L, C] bf16, as Wan's modulation
        VecLaunch v = of(new long[] {6, 16}, new long[][] {{16, 1}, {0, 1}, {16, 1}}, new Tensor[] {BF16, F32, BF16},
            256, 512, 1024);
        assertArrayEquals(new int[] {VecLaunch.FULL, VecLaunch.ROW}, v.modes());
        assertEquals(16, v.rowLen());
    }

    @Test
    void scalarAndFullOperands() {
        VecLaunch v = of(new long[] {64}, new long[][] {{0}, {1}, {1}}, new Tensor[] {F32, BF16, BF16}, 0, 16, 32);
        assertArrayEquals(new int[] {VecLaunch.SCALAR, VecLaunch.FULL}, v.modes());
    }

    @Test
    void stridedAlignedOrShortCallsTakeTheStridedKernels() {
        // count not a multiple of 8
        assertNull(of(new long[] {6, 15}, new long[][] {{15, 1}, {15, 1}}, new Tensor[] {BF16, BF16}, 0, 256));
        // transposed input
        assertNull(of(new long[] {8, 16}, new long[][] {{1, 8}, {16, 1}}, new Tensor[] {BF16, BF16}, 0, 256));
        // output not contiguous (padded rows)
        assertNull(of(new long[] {8, 16}, new long[][] {{16, 1}, {24, 1}}, new Tensor[] {BF16, BF16}, 0, 256));
        // a view starting 2 bytes into a 16-byte group
        assertNull(of(new long[] {64}, new long[][] {{1}, {1}}, new Tensor[] {BF16, BF16}, 2, 256));
        // a row vector whose length is not a multiple of 8
        assertNull(of(new long[] {16, 12}, new long[][] {{0, 1}, {12, 1}}, new Tensor[] {F32, F32}, 0, 256));
        // a column broadcast (stride 0 in the last dimension, 1 before): not a row vector
        assertNull(of(new long[] {16, 8}, new long[][] {{1, 0}, {8, 1}}, new Tensor[] {F32, F32}, 0, 256));
    }
}
