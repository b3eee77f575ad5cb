package dev.loraid.tensor.cuda;

import dev.loraid.tensor.Tensor;

/** Softmax over the last dimension and its backward (softmax.cu): one block per row. */
final class CudaSoftmax {
    private final CudaBackend b;

    CudaSoftmax(CudaBackend backend) {
        this.b = backend;
    }

    private static long rows(Tensor t) {
        return t.numel() / Math.max(1, t.size(-1));
    }

    void forward(Tensor x, Tensor out) {
        b.kernels().launchRows("softmax", "softmax_" + CudaKernels.variant(x, out), rows(x), a -> a
            .struct(CudaLayout.pack(a.arena(), x)).struct(CudaLayout.pack(a.arena(), out))
            .ptr(b.pointer(x)).ptr(b.pointer(out)).i64(rows(x)));
    }

    /** {@code dx = y · (dy − Σ dy·y)}. */
    void backward(Tensor y, Tensor dy, Tensor dx) {
        b.kernels().launchRows("softmax", "softmax_backward_" + CudaKernels.variant(y, dy, dx), rows(y), a -> a
            .struct(CudaLayout.pack(a.arena(), y)).struct(CudaLayout.pack(a.arena(), dy))
            .struct(CudaLayout.pack(a.arena(), dx)).ptr(b.pointer(y)).ptr(b.pointer(dy)).ptr(b.pointer(dx))
            .i64(rows(y)));
    }
}
