package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.DynamicQuant8;
import dev.loraid.tensor.Tensor;

/**
 * The AdamW updates in place (adamw.cu), PyTorch's and bitsandbytes' 8-bit one: the step-dependent factors (decay,
 * step size, √ of the second bias correction) are computed here in double, once per call, as the CPU backend does.
 */
final class CudaAdamW {
    private final CudaBackend b;

    CudaAdamW(CudaBackend backend) {
        this.b = backend;
    }

    void update(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps,
                double weightDecay, long step) {
        for (Tensor t : new Tensor[] {param, grad, m, v}) {
            if (t.dtype() != DType.F32 || !t.shape().equals(param.shape())) {
                throw new IllegalArgumentException("adamwUpdate: param, grad, m, v must be F32 of shape " + param.shape()
                    + ", got " + t);
            }
        }
        if (step < 1) {
            throw new IllegalArgumentException("adamw step " + step + ", expected >= 1 (steps count from 1)");
        }
        double decay = 1 - lr * weightDecay;
        double stepSize = lr / (1 - Math.pow(beta1, step));
        double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        long[][] l = CudaLayout.coalesce(param.shape().toArray(), param.strides(), grad.strides(), m.strides(), v.strides());
        long n = param.numel();
        b.kernels().launch1d("adamw", "adamw_update", n, a -> {
            for (int i = 1; i <= 4; i++) {
                a.struct(CudaLayout.pack(a.arena(), l[0], l[i], DType.F32));
            }
            a.ptr(b.pointer(param)).ptr(b.pointer(grad)).ptr(b.pointer(m)).ptr(b.pointer(v)).i64(n)
                .f64(beta1).f64(beta2).f64(eps).f64(decay).f64(stepSize).f64(bc2Sqrt);
        });
    }

    /** {@link dev.loraid.tensor.Backend#adamw8bitUpdate}: one 256-thread block per block of 256 elements. */
    void update8bit(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor absmaxM, Tensor absmaxV, Tensor mapM, Tensor mapV,
                    double lr, double beta1, double beta2, double eps, double weightDecay, long step) {
        DynamicQuant8.checkUpdate(param, grad, m, v, absmaxM, absmaxV, mapM, mapV, step);
        double correction2 = Math.sqrt(1 - Math.pow(beta2, step));
        double stepSize = -lr * correction2 / (1 - Math.pow(beta1, step));
        long n = param.numel();
        long blocks = DynamicQuant8.blocks(n);
        if (blocks == 0) {
            return;
        }
        int grid = (int) Math.min(blocks, (long) b.context().multiprocessors() * 32);
        b.kernels().launch("adamw", "adamw8bit_update", grid, 1, DynamicQuant8.BLOCK, 1, 0, a -> a.ptr(b.pointer(param))
            .ptr(b.pointer(grad)).ptr(b.pointer(m)).ptr(b.pointer(v)).ptr(b.pointer(absmaxM)).ptr(b.pointer(absmaxV))
            .ptr(b.pointer(mapM)).ptr(b.pointer(mapV)).i64(n).f64(beta1).f64(beta2).f64(eps).f64(lr).f64(weightDecay)
            .f64(stepSize).f64(correction2));
    }
}
