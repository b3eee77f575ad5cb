package dev.loraid.tensor.cpu.gemm;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.cpu.FloatRuns;

import java.lang.foreign.MemorySegment;

/**
 * One 2-D matrix inside a tensor's storage: element (r, c) sits at element offset
 * {@code offset + r*rowStride + c*colStride} of {@code segment}. Batched operands are one of these per batch,
 * differing only in {@code offset}.
 */
record StridedMatrix(MemorySegment segment, DType dtype, long offset, int rows, int cols, long rowStride,
                     long colStride) implements PanelSource {

    /** The transpose, as a view of the same elements. */
    StridedMatrix transposed() {
        return new StridedMatrix(segment, dtype, offset, cols, rows, colStride, rowStride);
    }

    @Override
    public StridedMatrix at(long newOffset) {
        return new StridedMatrix(segment, dtype, newOffset, rows, cols, rowStride, colStride);
    }

    @Override
    public void packPanel(int k0, int kc, int j, int w, float[] dst, int base, float[] scratch) {
        Packing.packPanel(this, k0, kc, j, w, dst, base, scratch);
    }

    /** Converts {@code len} elements of row {@code r} starting at column {@code c} into {@code dst}. */
    void readRow(int r, int c, int len, float[] dst, int dstOff) {
        FloatRuns.read(segment, dtype, offset + r * rowStride + c * colStride, colStride, dst, dstOff, len);
    }

    /** Converts {@code len} elements of column {@code c} starting at row {@code r} into {@code dst}. */
    void readColumn(int r, int c, int len, float[] dst, int dstOff) {
        FloatRuns.read(segment, dtype, offset + r * rowStride + c * colStride, rowStride, dst, dstOff, len);
    }
}
