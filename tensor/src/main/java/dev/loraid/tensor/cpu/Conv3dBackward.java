package dev.loraid.tensor.cpu;

import dev.loraid.tensor.ConvGeometry;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Precision;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.cpu.gemm.Gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Backward of {@link Conv3d} ({@link dev.loraid.tensor.Backend#conv3dBackward}), the same implicit GEMM run the
 * other way, tile by tile over runs of output rows (one tile's columns alive at a time, in the per-thread blocks
 * of {@link Conv3d#tile}, never the whole im2col matrix). With w2 the weight seen as [O, K] and g a tile of dOut
 * seen as [O, P]:
 * <pre>
 *   dWeight [O, K] += g · colsᵀ          cols [K, P] = the tile's input patches, packed as in the forward
 *   dCols   [K, P]  = w2ᵀ · g            then scattered (col2im) into dx: each patch value adds into the input
 *                                        element it was read from; padding positions are dropped
 *   dBias   [O]     = Σ dOut over N, T, H, W
 * </pre>
 * The scatter runs one input channel per task (patch rows k = i·kt·kh·kw … belong to channel i alone), so no two
 * threads add into the same element. Math in fp32 (fp64 when every tensor is F64).
 */
final class Conv3dBackward {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Conv3dBackward() {
    }

    static void backward(Tensor x, Tensor weight, Tensor dOut, int[] stride, int[] padding, Tensor dx,
                         Tensor dWeight, Tensor dBias) {
        backward(x, weight, dOut, stride, padding, dx, dWeight, dBias, Conv3d.TILE_ELEMENTS);
    }

    /** With a column-block budget of {@code tileElements} values (tests use tiny ones). */
    static void backward(Tensor x, Tensor weight, Tensor dOut, int[] stride, int[] padding, Tensor dx,
                         Tensor dWeight, Tensor dBias, long tileElements) {
        ConvGeometry g = ConvGeometry.ofBackward(x, weight, dOut, stride, padding, dx, dWeight, dBias);
        if (dBias != null) {
            Reductions.reduce(ReduceOp.SUM, dOut, new int[] {0, 2, 3, 4}, ConvGeometry.channelView(dBias));
        }
        if (dx == null && dWeight == null) {
            return;
        }
        DType acc = Precision.fp64(x, weight, dOut, dx, dWeight, dBias) ? DType.F64 : DType.F32;
        Tensor w2 = (weight.isContiguous() ? weight : weight.contiguous()).view(g.o(), g.k());
        Tensor dW = null;
        if (dWeight != null) {
            dW = dWeight.dtype() == acc && dWeight.isContiguous() ? dWeight.view(g.o(), g.k()) : Tensor.empty(acc, g.o(), g.k());
            StridedCopy.fill(dW, 0);
        }
        long rowsTotal = g.rows();
        int rowsPerTile = g.rowsPerTile(tileElements);
        long tileCols = (long) rowsPerTile * g.wo();
        Tensor cols = dWeight != null ? Conv3d.tile(0, acc, g.k(), tileCols) : null;
        Tensor dCols = dx != null ? Conv3d.tile(1, acc, g.k(), tileCols) : null;
        boolean merged = g.positionsMerge(dOut);
        Tensor dxScratch = dx == null || (dx.dtype() == acc && dx.select(0, 0).isContiguous())
            ? null : Tensor.empty(acc, g.i(), g.t(), g.h(), g.w());
        for (int n = 0; n < g.n(); n++) {
            Tensor gN = merged ? dOut.select(0, n) : dOut.select(0, n).contiguous();
            Tensor dxN = dx == null ? null : dxScratch != null ? dxScratch : dx.select(0, n);
            if (dxN != null) {
                StridedCopy.fill(dxN, 0);
            }
            for (long r0 = 0; r0 < rowsTotal; r0 += rowsPerTile) {
                int rows = (int) Math.min(rowsPerTile, rowsTotal - r0);
                int p = rows * g.wo();
                Tensor gTile = g.tile(gN, r0, rows);
                if (dW != null) {
                    Tensor c = cols.narrow(1, 0, p);
                    Conv3d.pack(x, n, g, r0, rows, c, acc == DType.F64);
                    Gemm.matmul(gTile, c.transpose(0, 1), dW, 1, 1, null);
                }
                if (dxN != null) {
                    Tensor d = dCols.narrow(1, 0, p);
                    Gemm.matmul(w2.transpose(0, 1), gTile, d, 1, 0, null);
                    scatter(d, g, r0, rows, dxN);
                }
            }
            if (dxScratch != null) {
                StridedCopy.copy(dxScratch, dx.select(0, n));
            }
        }
        if (dW != null && dW.storage() != dWeight.storage()) {
            StridedCopy.copy(dW.view(weight.shape().toArray()), dWeight);
        }
    }

    /** col2im: adds dCols [K, rows·Wo] (output rows [r0, r0 + rows)) into acc [I, T, H, W] (contiguous). */
    private static void scatter(Tensor dCols, ConvGeometry g, long r0, int rows, Tensor acc) {
        MemorySegment src = dCols.storage().segment();
        MemorySegment dst = acc.storage().segment();
        boolean fp64 = acc.dtype() == DType.F64;
        long srcRow = dCols.stride(0);
        long srcBase = dCols.offset();
        long dstBase = acc.offset();
        int kernel = g.kt() * g.kh() * g.kw();
        Parallel.forRange(g.i(), 1, (i0, i1) -> {
            for (long i = i0; i < i1; i++) {
                for (int rem = 0; rem < kernel; rem++) {
                    long k = i * kernel + rem;
                    int dt = rem / (g.kh() * g.kw());
                    int dh = rem / g.kw() % g.kh();
                    int dw = rem % g.kw();
                    int wLo = Math.max(0, ConvGeometry.ceilDiv(g.left() - dw, g.sw()));
                    int wHi = Math.min(g.wo() - 1, Math.floorDiv(g.w() - 1 + g.left() - dw, g.sw()));
                    for (int r = 0; r < rows; r++) {
                        long row = r0 + r;
                        int ti = (int) (row / g.ho()) * g.st() + dt - g.front();
                        int hi = (int) (row % g.ho()) * g.sh() + dh - g.top();
                        if (ti < 0 || ti >= g.t() || hi < 0 || hi >= g.h() || wLo > wHi) {
                            continue;
                        }
                        long from = srcBase + k * srcRow + (long) r * g.wo() + wLo;
                        long to = dstBase + ((i * g.t() + ti) * g.h() + hi) * g.w() + (long) wLo * g.sw() + dw - g.left();
                        for (int w = 0; w <= wHi - wLo; w++) {
                            long at = to + (long) w * g.sw();
                            if (fp64) {
                                dst.set(F64, at * 8, dst.get(F64, at * 8) + src.get(F64, (from + w) * 8));
                            } else {
                                dst.set(F32, at * 4, dst.get(F32, at * 4) + src.get(F32, (from + w) * 4));
                            }
                        }
                    }
                }
            }
        });
    }
}
