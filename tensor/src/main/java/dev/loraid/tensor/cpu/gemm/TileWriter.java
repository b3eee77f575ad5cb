package dev.loraid.tensor.cpu.gemm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Merges one accumulated tile into C: {@code C = alpha·tile + beta·C + bias}. Only the first K slice passes
 * the caller's beta and bias; later slices pass beta = 1 and no bias, so partial sums accumulate in C. With
 * beta == 0 the old C is never read (it may hold NaNs). Full-width rows use vectors; edge tiles go scalar.
 */
final class TileWriter {
    private static final VectorSpecies<Float> S = GemmTiling.SPECIES;
    private static final int L = GemmTiling.LANES;
    private static final int NR = GemmTiling.NR;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    private TileWriter() {
    }

    /**
     * @param c    F32 output matrix (column stride 1 unless it has a single column)
     * @param bias    null, or fp32 values indexed by column of c (by row when {@code perRow})
     */
    static void write(float[] tile, int rows, int cols, StridedMatrix c, int row, int col, float alpha, float beta,
                      float[] bias, boolean perRow) {
        MemorySegment seg = c.segment();
        long rowStride = c.rowStride();
        long colStride = c.colStride();
        long base = c.offset() + row * rowStride + col * colStride;
        if (cols == NR && colStride == 1) {
            for (int r = 0; r < rows; r++) {
                long at = (base + r * rowStride) * Float.BYTES;
                for (int v = 0; v < NR; v += L) {
                    FloatVector acc = FloatVector.fromArray(S, tile, r * NR + v).mul(alpha);
                    long vAt = at + (long) v * Float.BYTES;
                    if (beta != 0) {
                        acc = FloatVector.fromMemorySegment(S, seg, vAt, LE).fma(FloatVector.broadcast(S, beta), acc);
                    }
                    if (bias != null) {
                        acc = perRow ? acc.add(bias[row + r]) : acc.add(FloatVector.fromArray(S, bias, col + v));
                    }
                    acc.intoMemorySegment(seg, vAt, LE);
                }
            }
            return;
        }
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                long at = (base + r * rowStride + j * colStride) * Float.BYTES;
                float v = alpha * tile[r * NR + j];
                if (beta != 0) {
                    v = Math.fma(beta, seg.get(F32, at), v);
                }
                if (bias != null) {
                    v += bias[perRow ? row + r : col + j];
                }
                seg.set(F32, at, v);
            }
        }
    }
}
