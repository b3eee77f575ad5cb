package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.Tensor;

/** {@code out = x · c} and {@code out = x + c} for a constant c. d/dx = c, resp. 1. */
public final class Scale extends Node {
    private final double factor;

    private Scale(Var x, double factor) {
        super(x);
        this.factor = factor;
    }

    public static Var apply(Var x, double factor) {
        Tensor out = TensorMath.binaryScalar(BinaryOp.MUL, x.data(), factor);
        return Var.result(out, Node.recording(x) ? new Scale(x, factor) : null, x);
    }

    /** {@code x + c}: the gradient passes through unchanged. */
    public static Var addConstant(Var x, double c) {
        Tensor out = TensorMath.binaryScalar(BinaryOp.ADD, x.data(), c);
        return Var.result(out, Node.recording(x) ? new Scale(x, 1.0) : null, x);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        return new Tensor[] {factor == 1.0 ? g : TensorMath.scale(g, factor)};
    }
}
