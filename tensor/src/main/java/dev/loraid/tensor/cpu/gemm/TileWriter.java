package dev.loraid.tensor.cpu.gemm;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.MiniFloats;
import dev.loraid.tensor.cpu.Bf16Vectors;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Merges one accumulated tile into C: {@code C = alpha·tile + beta·C + bias}. Only the first K slice passes
 * the caller's beta and bias; later slices pass beta = 1 and no bias, so partial sums accumulate in C. With
 * beta == 0 the old C is never read (it may hold NaNs). Full-width rows use vectors; edge tiles go scalar.
 * A BF16 C (only where K is one slice, {@link Gemm#writesDirectly}) is widened, merged in fp32 and rounded once:
 * the bits of an fp32 C cast to bf16 afterwards, without the fp32 copy of C.
 */
final class TileWriter {
    private static final VectorSpecies<Float> S = GemmTiling.SPECIES;
    private static final int L = GemmTiling.LANES;
    private static final int NR = GemmTiling.NR;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    private TileWriter() {
    }

    /**
     * @param c    F32 or BF16 output matrix (column stride 1 unless it has a single column)
     * @param bias    null, or fp32 values indexed by column of c (by row when {@code perRow})
     */
    static void write(float[] tile, int rows, int cols, StridedMatrix c, int row, int col, float alpha, float beta,
                      float[] bias, boolean perRow) {
        if (c.dtype() == DType.BF16) {
            writeBf16(tile, rows, cols, c, row, col, alpha, beta, bias, perRow);
            return;
        }
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
        writeEdge(tile, rows, cols, c, row, col, alpha, beta, bias, perRow);
    }

    /**
     * The vector loop of {@link #write} for a BF16 output. A twin rather than one loop testing the dtype: folded into
     * one, the fp32 GEMM ran up to 15 % slower (bench/run gemm, 2026-12-07).
     */
    private static void writeBf16(float[] tile, int rows, int cols, StridedMatrix c, int row, int col, float alpha, float beta,
                                  float[] bias, boolean perRow) {
        MemorySegment seg = c.segment();
        long rowStride = c.rowStride();
        long colStride = c.colStride();
        long base = c.offset() + row * rowStride + col * colStride;
        if (cols == NR && colStride == 1) {
            for (int r = 0; r < rows; r++) {
                long at = (base + r * rowStride) * 2;
                for (int v = 0; v < NR; v += L) {
                    FloatVector acc = FloatVector.fromArray(S, tile, r * NR + v).mul(alpha);
                    long vAt = at + (long) v * 2;
                    if (beta != 0) {
                        acc = Bf16Vectors.load(seg, vAt).fma(FloatVector.broadcast(S, beta), acc);
                    }
                    if (bias != null) {
                        acc = perRow ? acc.add(bias[row + r]) : acc.add(FloatVector.fromArray(S, bias, col + v));
                    }
                    Bf16Vectors.store(acc, seg, vAt);
                }
            }
            return;
        }
        writeEdge(tile, rows, cols, c, row, col, alpha, beta, bias, perRow);
    }

    /** Edge tiles and strided outputs, element by element, in either output dtype. */
    private static void writeEdge(float[] tile, int rows, int cols, StridedMatrix c, int row, int col, float alpha, float beta,
                                  float[] bias, boolean perRow) {
        boolean bf16 = c.dtype() == DType.BF16;
        int bytes = bf16 ? 2 : Float.BYTES;
        MemorySegment seg = c.segment();
        long base = c.offset() + row * c.rowStride() + col * c.colStride();
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                long at = (base + r * c.rowStride() + j * c.colStride()) * bytes;
                float v = alpha * tile[r * NR + j];
                if (beta != 0) {
                    v = Math.fma(beta, bf16 ? MiniFloats.bf16ToFloat(seg.get(I16, at)) : seg.get(F32, at), v);
                }
                if (bias != null) {
                    v += bias[perRow ? row + r : col + j];
                }
                if (bf16) {
                    seg.set(I16, at, MiniFloats.floatToBf16(v));
                } else {
                    seg.set(F32, at, v);
                }
            }
        }
    }
}
