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

    static void copy(Tensor src, Tensor dst) {
        Tensor s = src.shape().equals(dst.shape()) ? src : src.expand(dst.shape());
        DType ti = s.dtype();
        DType to = dst.dtype();
        MemorySegment in = s.storage().segment();
        MemorySegment out = dst.storage().segment();
        boolean ints = !ti.isFloatingPoint() && !to.isFloatingPoint();
        boolean viaFloat = ti.isFloatingPoint() && to.isFloatingPoint() && ti != DType.F64 && to != DType.F64;
        int bi = ti.byteSize();
        int bo = to.byteSize();
        StridedLoop.of(dst.shape().toArray(), s, dst).forEachRun(1, (base, stride, n) -> {
            if (ti == to && stride[0] == 1 && stride[1] == 1) {
                MemorySegment.copy(in, base[0] * bi, out, base[1] * bo, (long) n * bo);
            } else if (ints) {
                for (int i = 0; i < n; i++) {
                    to.writeLong(out, (base[1] + i * stride[1]) * bo, ti.readLong(in, (base[0] + i * stride[0]) * bi));
                }
            } else if (viaFloat) {
                float[] buf = Scratch.floats(0, n);
                Lanes.load(in, ti, base[0], stride[0], buf, 0, n);
                Lanes.store(buf, 0, n, out, to, base[1], stride[1]);
            } else {
                double[] buf = Scratch.doubles(0, n);
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
