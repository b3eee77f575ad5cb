package dev.loraid.tensor.cuda;

import dev.loraid.tensor.Tensor;

/** Counter-based random numbers (philox.cu): the same Philox4x32-10 stream as the CPU backend's, element i of dst. */
final class CudaRandom {
    private final CudaBackend b;

    CudaRandom(CudaBackend backend) {
        this.b = backend;
    }

    void uniform(Tensor dst, long seed, long offset) {
        launch("random_uniform", dst, seed, offset);
    }

    void normal(Tensor dst, long seed, long offset) {
        launch("random_normal", dst, seed, offset);
    }

    private void launch(String name, Tensor dst, long seed, long offset) {
        b.kernels().launch1d("philox", name, dst.numel(), a -> a
            .struct(CudaLayout.pack(a.arena(), dst)).ptr(b.pointer(dst)).i64(dst.numel()).i64(seed).i64(offset));
    }
}
