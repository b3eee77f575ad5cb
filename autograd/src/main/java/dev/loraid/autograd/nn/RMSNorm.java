package dev.loraid.autograd.nn;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;

/** RMSNorm over the last dimension with a {@code weight} [dim] (Wan's q/k norms). */
public class RMSNorm extends Module implements Layer {
    private final long dim;
    private final double eps;
    private final Parameter weight;

    public RMSNorm(long dim, double eps, Parameter weight) {
        this.dim = dim;
        this.eps = eps;
        this.weight = weight == null ? null : registerParameter("weight", weight);
    }

    /** Trainable F32 weight of ones. */
    public static RMSNorm trainable(long dim, double eps) {
        return new RMSNorm(dim, eps, Init.constant(1, dim));
    }

    /** Frozen weight to be loaded from a checkpoint. */
    public static RMSNorm declared(long dim, double eps, DType type) {
        return new RMSNorm(dim, eps, Parameter.declared(type, dim));
    }

    @Override
    public Var forward(Var x) {
        if (x.size(-1) != dim) {
            throw new IllegalArgumentException("RMS norm over " + dim + " channels got input " + x.shape());
        }
        return Ops.rmsNorm(x, weight, eps);
    }
}
