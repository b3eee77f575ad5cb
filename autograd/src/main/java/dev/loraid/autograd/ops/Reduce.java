package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

/**
 * Sum or mean over dimensions. The gradient is g broadcast back over the reduced dimensions (a stride-0 view
 * for sum), divided by the count for mean.
 */
public final class Reduce extends Node {
    private final Shape inShape;
    private final Shape keptShape;
    private final double factor;

    private Reduce(Var x, Shape keptShape, double factor) {
        super(x);
        this.inShape = x.shape();
        this.keptShape = keptShape;
        this.factor = factor;
    }

    public static Var sum(Var x) {
        return sum(x, TensorMath.allDims(x.rank()), false);
    }

    public static Var mean(Var x) {
        return mean(x, TensorMath.allDims(x.rank()), false);
    }

    public static Var sum(Var x, int[] dims, boolean keepDim) {
        return apply(ReduceOp.SUM, x, dims, keepDim, 1.0);
    }

    public static Var mean(Var x, int[] dims, boolean keepDim) {
        long count = 1;
        for (int d : TensorMath.normalizeDims(x.shape(), dims)) {
            count *= x.size(d);
        }
        return apply(ReduceOp.MEAN, x, dims, keepDim, 1.0 / count);
    }

    private static Var apply(ReduceOp op, Var x, int[] dims, boolean keepDim, double factor) {
        Tensor kept = TensorMath.reduce(op, x.data(), dims, true);
        Tensor out = keepDim ? kept : kept.view(TensorMath.dropDims(x.shape(), TensorMath.normalizeDims(x.shape(), dims)));
        return Var.result(out, Node.recording(x) ? new Reduce(x, kept.shape(), factor) : null, x);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        Tensor gk = g.reshape(keptShape.toArray());
        Tensor scaled = factor == 1.0 ? gk : TensorMath.scale(gk, factor);
        return new Tensor[] {scaled.expand(inShape)};
    }
}
