package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;
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
        return apply(op, x, null);
    }

    /** @param type the result dtype (a mixed-precision activation, computed in fp32), or null for the rule's */
    public static Var apply(UnaryOp op, Var x, DType type) {
        Tensor xd = x.data();
        Tensor out;
        if (type == null) {
            out = TensorMath.unary(op, xd);
        } else {
            out = TensorMath.empty(xd, type, xd.shape());
            xd.backend().unary(op, xd, out);
        }
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
