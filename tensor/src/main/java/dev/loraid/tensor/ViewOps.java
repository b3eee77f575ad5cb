package dev.loraid.tensor;

import java.util.Arrays;

/**
 * Ops that are only data movement and therefore compose from {@link Backend#copy} and {@link Backend#fill} over
 * strided views: every backend dispatches {@link Backend#upsampleNearest} and {@link Backend#pad} here, so they run
 * wherever copy does (no kernel of their own to keep in step).
 */
public final class ViewOps {
    private ViewOps() {
    }

    /**
     * Nearest-neighbour upsampling by integer factors: {@code out[..., i, ...] = x[..., i / f, ...]} per dimension,
     * f = out.size(d) / x.size(d). Done as one copy from x with a stride-0 axis per factor into out seen as
     * [n₀, f₀, n₁, f₁, …] (splitting a dimension is always a strided view, whatever out's strides).
     */
    public static void upsampleNearest(Backend backend, Tensor x, Tensor out) {
        int r = x.rank();
        if (out.rank() != r) {
            throw new IllegalArgumentException("upsampleNearest: x " + x.shape() + " and out " + out.shape()
                + " differ in rank");
        }
        long[] dims = new long[2 * r];
        long[] outStrides = new long[2 * r];
        long[] xStrides = new long[2 * r];
        for (int d = 0; d < r; d++) {
            long n = x.size(d);
            long m = out.size(d);
            if (n == 0 || m % n != 0) {
                throw new IllegalArgumentException("upsampleNearest: out " + out.shape() + " is not a whole multiple of x "
                    + x.shape() + " in dimension " + d);
            }
            long f = m / n;
            dims[2 * d] = n;
            dims[2 * d + 1] = f;
            outStrides[2 * d] = out.stride(d) * f;
            outStrides[2 * d + 1] = out.stride(d);
            xStrides[2 * d] = x.stride(d);
            xStrides[2 * d + 1] = 0;
        }
        Shape shape = Shape.of(dims);
        backend.copy(new Tensor(x.storage(), x.dtype(), shape, xStrides, x.offset()),
            new Tensor(out.storage(), out.dtype(), shape, outStrides, out.offset()));
    }

    /**
     * Zero padding: out is x with {@code before[d]} zeros in front of dimension d and
     * {@code out.size(d) − x.size(d) − before[d]} behind it (e.g. causal padding: frames in front only).
     */
    public static void pad(Backend backend, Tensor x, int[] before, Tensor out) {
        int r = x.rank();
        if (out.rank() != r || before.length != r) {
            throw new IllegalArgumentException("pad: x " + x.shape() + ", out " + out.shape() + " and before "
                + Arrays.toString(before) + " must have one rank");
        }
        Tensor window = out;
        for (int d = 0; d < r; d++) {
            if (before[d] < 0 || before[d] + x.size(d) > out.size(d)) {
                throw new IllegalArgumentException("pad: x " + x.shape() + " with " + Arrays.toString(before)
                    + " in front does not fit out " + out.shape() + " in dimension " + d);
            }
            window = window.narrow(d, before[d], x.size(d));
        }
        if (out.numel() != x.numel()) {
            backend.fill(out, 0);
        }
        backend.copy(x, window);
    }
}
