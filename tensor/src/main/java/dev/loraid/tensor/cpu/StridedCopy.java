package dev.loraid.tensor.cpu;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * {@code dst = cast(src)} for any strides and dtypes, src broadcast to dst's shape. Same-dtype contiguous runs
 * are byte copies; float↔float casts go through a float buffer (vectorized for F32/BF16); integer↔integer
 * casts are exact; F64 and integer↔float casts go through doubles.
 */
final class StridedCopy {
    private StridedCopy() {
    }

    /** Side of the square tiles a transposing copy goes through (both sides then touch whole cache lines). */
    private static final int TILE = 64;

    static void copy(Tensor src, Tensor dst) {
        Tensor s = src.shape().equals(dst.shape()) ? src : src.expand(dst.shape());
        int across = transposedDim(s, dst);
        if (across < 0) {
            copyRuns(s, dst, true);
            return;
        }
        // src is contiguous along `across`, dst along the last dimension: copy tile by tile, tiles in parallel
        int last = dst.rank() - 1;
        long rows = dst.size(across);
        long cols = dst.size(last);
        long tileRows = (rows + TILE - 1) / TILE;
        long tileCols = (cols + TILE - 1) / TILE;
        long tiles = tileRows * tileCols;
        Parallel.forRange(tiles, 4, (from, to) -> {
            for (long t = from; t < to; t++) {
                long r0 = t / tileCols * TILE;
                long c0 = t % tileCols * TILE;
                long nr = Math.min(TILE, rows - r0);
                long nc = Math.min(TILE, cols - c0);
                copyRuns(s.narrow(across, r0, nr).narrow(last, c0, nc), dst.narrow(across, r0, nr).narrow(last, c0, nc), false);
            }
        });
    }

    /**
     * The dimension along which src is contiguous when dst is contiguous along its last one and src is not
     * (a transpose), if both are long enough for tiling to pay; else −1.
     */
    private static int transposedDim(Tensor s, Tensor dst) {
        int last = dst.rank() - 1;
        if (last < 1 || dst.stride(last) != 1 || s.stride(last) == 1 || dst.size(last) < TILE) {
            return -1;
        }
        for (int d = 0; d < last; d++) {
            if (s.stride(d) == 1 && s.size(d) >= TILE) {
                return d;
            }
        }
        return -1;
    }

    private static void copyRuns(Tensor s, Tensor dst, boolean parallel) {
        DType ti = s.dtype();
        DType to = dst.dtype();
        MemorySegment in = s.storage().segment();
        MemorySegment out = dst.storage().segment();
        boolean ints = !ti.isFloatingPoint() && !to.isFloatingPoint();
        boolean viaFloat = ti.isFloatingPoint() && to.isFloatingPoint() && ti != DType.F64 && to != DType.F64;
        int bi = ti.byteSize();
        int bo = to.byteSize();
        StridedLoop.of(dst.shape().toArray(), s, dst).forEachRun(1, parallel, (base, stride, n) -> {
            if (ti == to && stride[0] == 1 && stride[1] == 1) {
                MemorySegment.copy(in, base[0] * bi, out, base[1] * bo, (long) n * bo);
            } else if (ints) {
                for (int i = 0; i < n; i++) {
                    to.writeLong(out, (base[1] + i * stride[1]) * bo, ti.readLong(in, (base[0] + i * stride[0]) * bi));
                }
            } else if (viaFloat) {
                float[] buf = CpuScratch.floats(0, n);
                Lanes.load(in, ti, base[0], stride[0], buf, 0, n);
                Lanes.store(buf, 0, n, out, to, base[1], stride[1]);
            } else {
                double[] buf = CpuScratch.doubles(0, n);
                Lanes.load(in, ti, base[0], stride[0], buf, 0, n);
                Lanes.store(buf, 0, n, out, to, base[1], stride[1]);
            }
        });
    }

    static void fill(Tensor dst, double value) {
        Tensor one = Tensor.empty(dst.dtype());
        one.dtype().write(one.storage().segment(), 0, value);
        copy(one, dst);
    }
}
