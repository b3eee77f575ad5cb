package dev.loraid.autograd.nn;

import dev.loraid.autograd.Parameter;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;

/**
 * Parameter initialisers. Random ones use the backend's counter-based generator, so a seed gives the same
 * weights on every device. Parameters are allocated outside any memory scope (they outlive the step).
 */
public final class Init {
    private Init() {
    }

    /** A trainable F32 parameter, uniform in [lo, hi) from stream {@code seed}. */
    public static Parameter uniform(double lo, double hi, long seed, long... dims) {
        try (MemoryScope outside = MemoryScope.suspend()) {
            Tensor t = Tensor.empty(DType.F32, dims);
            t.backend().randomUniform(t, seed, 0);
            t.backend().binaryScalar(BinaryOp.MUL, t, hi - lo, t);
            t.backend().binaryScalar(BinaryOp.ADD, t, lo, t);
            return Parameter.trainable(t);
        }
    }

    /** A trainable F32 parameter, normal with mean 0 and standard deviation {@code std}, from stream {@code seed}. */
    public static Parameter normal(double std, long seed, long... dims) {
        try (MemoryScope outside = MemoryScope.suspend()) {
            Tensor t = Tensor.empty(DType.F32, dims);
            t.backend().randomNormal(t, seed, 0);
            t.backend().binaryScalar(BinaryOp.MUL, t, std, t);
            return Parameter.trainable(t);
        }
    }

    /**
     * PyTorch's default Linear init: kaiming_uniform(a=√5) gives U(−1/√fanIn, 1/√fanIn) (spec training.md §2.2
     * derives the bound), the same bound as its bias init.
     */
    public static Parameter kaimingUniform(long fanIn, long seed, long... dims) {
        double bound = 1.0 / Math.sqrt(fanIn);
        return uniform(-bound, bound, seed, dims);
    }

    /** A trainable F32 parameter filled with {@code value}. */
    public static Parameter constant(double value, long... dims) {
        try (MemoryScope outside = MemoryScope.suspend()) {
            return Parameter.trainable(Tensor.full(DType.F32, value, dims));
        }
    }
}
