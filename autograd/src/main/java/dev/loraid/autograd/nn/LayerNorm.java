package dev.loraid.autograd.nn;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;

/** LayerNorm over the last dimension, affine ({@code weight}, {@code bias} [dim]) or not. */
public class LayerNorm extends Module implements Layer {
    private final long dim;
    private final double eps;
    private final Parameter weight;
    private final Parameter bias;

    public LayerNorm(long dim, double eps, Parameter weight, Parameter bias) {
        this.dim = dim;
        this.eps = eps;
        this.weight = weight == null ? null : registerParameter("weight", weight);
        this.bias = bias == null ? null : registerParameter("bias", bias);
    }

    /** Without weight and bias (Wan's norm1/norm2, elementwise_affine=False). */
    public static LayerNorm plain(long dim, double eps) {
        return new LayerNorm(dim, eps, null, null);
    }

    /** Trainable F32 weight (ones) and bias (zeros), PyTorch's init. */
    public static LayerNorm affine(long dim, double eps) {
        return new LayerNorm(dim, eps, Init.constant(1, dim), Init.constant(0, dim));
    }

    /** Frozen affine parameters to be loaded from a checkpoint. */
    public static LayerNorm declared(long dim, double eps, DType type) {
        return new LayerNorm(dim, eps, Parameter.declared(type, dim), Parameter.declared(type, dim));
    }

    @Override
    public Var forward(Var x) {
        if (x.size(-1) != dim) {
            throw new IllegalArgumentException("layer norm over " + dim + " channels got input " + x.shape());
        }
        return Ops.layerNorm(x, weight, bias, eps);
    }
}
