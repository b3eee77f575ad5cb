package dev.loraid.tensor.cuda;

import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.Tensor;

import java.util.Arrays;

/**
 * Reductions over any set of dimensions (reduce.cu): one block per output element, the kept dimensions as the
 * "outer" layout and the reduced ones as the "inner" layout, both coalesced.
 */
final class CudaReductions {
    private final CudaBackend b;

    CudaReductions(CudaBackend backend) {
        this.b = backend;
    }

    void reduce(ReduceOp op, Tensor x, int[] dims, Tensor out) {
        int r = x.rank();
        boolean[] reduced = new boolean[r];
        for (int d : dims) {
            reduced[x.shape().normalize(d)] = true;
        }
        long[] outerDims = x.shape().toArray();
        long[] innerDims = new long[dims.length];
        long[] innerStrides = new long[dims.length];
        for (int i = 0, j = 0; i < r; i++) {
            if (reduced[i]) {
                innerDims[j] = x.size(i);
                innerStrides[j++] = x.stride(i);
                outerDims[i] = 1;
            }
        }
        if (!Arrays.equals(outerDims, out.shape().toArray())) {
            throw new IllegalArgumentException("reduce over " + Arrays.toString(dims) + " of " + x.shape()
                + " needs out of shape " + Arrays.toString(outerDims) + ", got " + out.shape());
        }
        long[][] outer = CudaLayout.coalesce(outerDims, x.strides(), out.strides());
        long[][] inner = CudaLayout.coalesce(innerDims, innerStrides);
        long nOut = out.numel();
        long nInner = x.numel() / Math.max(1, nOut);
        b.kernels().launchRows("reduce", "reduce_" + CudaKernels.variant(x, out), nOut, a -> a
            .struct(CudaLayout.pack(a.arena(), outer[0], outer[1], x.dtype()))
            .struct(CudaLayout.pack(a.arena(), inner[0], inner[1], x.dtype()))
            .struct(CudaLayout.pack(a.arena(), outer[0], outer[2], out.dtype()))
            .ptr(b.pointer(x)).ptr(b.pointer(out)).i64(nOut).i64(nInner).i32(op.ordinal()));
    }
}
