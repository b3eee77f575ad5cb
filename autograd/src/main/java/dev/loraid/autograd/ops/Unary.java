package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;

/** Elementwise {@code out = f(x)} (GELU-tanh, SiLU, exp, …). dx = g · f'(x), by the backend's backward kernel. */
public final class Unary extends Node {
    private final UnaryOp op;
    private final Tensor x;

    private Unary(UnaryOp op, Var x) {
        super(x);
        this.op = op;
        this.x = x.data();
    }

    public static Var apply(UnaryOp op, Var x) {
        Tensor out = TensorMath.unary(op, x.data());
        return Var.result(out, Node.recording(x) ? new Unary(op, x) : null, x);
    }

    @Override
    public String name() {
        return "Unary(" + op + ")";
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        Tensor dx = TensorMath.empty(x, TensorMath.computeType(x, g), x.shape());
        x.backend().unaryBackward(op, x, g, dx);
        return new Tensor[] {dx};
    }
}
