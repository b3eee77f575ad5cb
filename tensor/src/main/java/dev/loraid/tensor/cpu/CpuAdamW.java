package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * One AdamW step in place, with PyTorch's {@code torch.optim.AdamW} semantics (decoupled weight decay applied to
 * the parameter before the Adam update, bias correction, eps added after the bias-corrected square root):
 * <pre>
 *   p ← p·(1 − lr·wd);  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1^t)) · m / (sqrt(v) / sqrt(1 − β2^t) + eps)
 * </pre>
 * Each element is computed in fp64 and rounded once when stored (the CUDA kernel does the same).
 */
final class CpuAdamW {
    private CpuAdamW() {
    }

    static void update(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2,
                       double eps, double weightDecay, long step) {
        Checks.sameShape(param, grad, "adamw grad");
        Checks.sameShape(param, m, "adamw m");
        Checks.sameShape(param, v, "adamw v");
        if (step < 1) {
            throw new IllegalArgumentException("adamw step " + step + ", expected >= 1 (steps count from 1)");
        }
        double decay = 1 - lr * weightDecay;
        double stepSize = lr / (1 - Math.pow(beta1, step));
        double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        Tensor[] ops = {param, grad, m, v};
        MemorySegment[] seg = new MemorySegment[4];
        for (int k = 0; k < 4; k++) {
            seg[k] = ops[k].storage().segment();
        }
        StridedLoop.of(param.shape().toArray(), ops).forEachRun(4, (base, stride, n) -> {
            double[][] buf = new double[4][];
            for (int k = 0; k < 4; k++) {
                buf[k] = CpuScratch.doubles(k, n);
                Lanes.load(seg[k], ops[k].dtype(), base[k], stride[k], buf[k], 0, n);
            }
            double[] p = buf[0];
            double[] g = buf[1];
            double[] mm = buf[2];
            double[] vv = buf[3];
            for (int i = 0; i < n; i++) {
                mm[i] = beta1 * mm[i] + (1 - beta1) * g[i];
                vv[i] = beta2 * vv[i] + (1 - beta2) * g[i] * g[i];
                p[i] = p[i] * decay - stepSize * mm[i] / (Math.sqrt(vv[i]) / bc2Sqrt + eps);
            }
            Lanes.store(p, 0, n, seg[0], ops[0].dtype(), base[0], stride[0]);
            Lanes.store(mm, 0, n, seg[2], ops[2].dtype(), base[2], stride[2]);
            Lanes.store(vv, 0, n, seg[3], ops[3].dtype(), base[3], stride[3]);
        });
    }
}
