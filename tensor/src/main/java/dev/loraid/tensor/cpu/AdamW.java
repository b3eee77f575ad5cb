package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Tensor;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

/**
 * One AdamW step in place, with PyTorch's {@code torch.optim.AdamW} semantics (decoupled weight decay applied to
 * the parameter before the Adam update, bias correction, eps added after the bias-corrected square root):
 * <pre>
 *   p ← p·(1 − lr·wd);  m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²
 *   p ← p − (lr / (1 − β1^t)) · m / (sqrt(v) / sqrt(1 − β2^t) + eps)
 * </pre>
 * Computed in fp32 vector lanes (PyTorch's own fp32 update), in fp64 when all four tensors are F64.
 */
final class AdamW {
    private AdamW() {
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
        boolean f64 = Checks.allF64(ops);
        float fDecay = (float) decay;
        float fStep = (float) stepSize;
        float fBc2 = (float) (1 / bc2Sqrt);
        float fEps = (float) eps;
        float b1 = (float) beta1;
        float b2 = (float) beta2;
        StridedLoop.of(param.shape().toArray(), ops).forEachRun(4, (base, stride, n) -> {
            if (f64) {
                double[][] buf = new double[4][];
                for (int k = 0; k < 4; k++) {
                    buf[k] = Scratch.doubles(k, n);
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
                return;
            }
            int padded = Lanes.padded(n);
            float[][] buf = new float[4][];
            for (int k = 0; k < 4; k++) {
                buf[k] = Scratch.floats(k, padded);
                Lanes.load(seg[k], ops[k].dtype(), base[k], stride[k], buf[k], 0, n);
            }
            for (int i = 0; i < padded; i += Lanes.VL) {
                FloatVector g = FloatVector.fromArray(Lanes.F, buf[1], i);
                FloatVector mm = FloatVector.fromArray(Lanes.F, buf[2], i).mul(b1).add(g.mul(1 - b1));
                FloatVector vv = FloatVector.fromArray(Lanes.F, buf[3], i).mul(b2).add(g.mul(g).mul(1 - b2));
                FloatVector denom = vv.sqrt().mul(fBc2).add(fEps);
                FloatVector p = FloatVector.fromArray(Lanes.F, buf[0], i).mul(fDecay).sub(mm.mul(fStep).div(denom));
                p.intoArray(buf[0], i);
                mm.intoArray(buf[2], i);
                vv.intoArray(buf[3], i);
            }
            Lanes.store(buf[0], 0, n, seg[0], ops[0].dtype(), base[0], stride[0]);
            Lanes.store(buf[2], 0, n, seg[2], ops[2].dtype(), base[2], stride[2]);
            Lanes.store(buf[3], 0, n, seg[3], ops[3].dtype(), base[3], stride[3]);
        });
    }
}
