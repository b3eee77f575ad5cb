package dev.loraid.autograd.optim;

import dev.loraid.autograd.Var;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.Tensor;

import java.util.Arrays;
import java.util.Collection;

/** Global-norm gradient clipping, as torch/accelerate {@code clip_grad_norm_} (spec training.md §3.1). */
public final class GradClip {
    private GradClip() {
    }

    /**
     * The L2 norm of all gradients together (parameters without a gradient count as zero). The squares are
     * summed on the device and read back once.
     */
    public static double globalNorm(Collection<? extends Var> params) {
        Tensor total = null;
        for (Var p : params) {
            Tensor g = p.grad();
            if (g == null) {
                continue;
            }
            int[] all = new int[g.rank()];
            for (int i = 0; i < all.length; i++) {
                all[i] = i;
            }
            long[] ones = new long[g.rank()];
            Arrays.fill(ones, 1);
            Tensor s = Tensor.empty(g.device(), DType.F64 == g.dtype() ? DType.F64 : DType.F32, ones);
            g.backend().reduce(ReduceOp.SUM_SQUARES, g, all, s);
            if (total == null) {
                total = Tensor.zeros(g.device(), DType.F64, 1);
            }
            g.backend().addScaled(total, 1.0, s.reshape(1), 1.0, total);
        }
        return total == null ? 0.0 : Math.sqrt(total.toDoubleArray()[0]);
    }

    /**
     * Scales every gradient by {@code min(1, maxNorm / (norm + 1e-6))} and returns the norm before clipping.
     * A maxNorm of 0 or less disables clipping (--max_grad_norm 0) and only measures.
     */
    public static double clipGlobalNorm(Collection<? extends Var> params, double maxNorm) {
        double norm = globalNorm(params);
        if (maxNorm > 0) {
            double coef = maxNorm / (norm + 1e-6);
            if (coef < 1.0) {
                for (Var p : params) {
                    Tensor g = p.grad();
                    if (g != null) {
                        g.backend().binaryScalar(BinaryOp.MUL, g, coef, g);
                    }
                }
            }
        }
        return norm;
    }
}
