package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.Tensor;

/** {@code out = a · b} with broadcasting. d/da = g·b, d/db = g·a, summed over broadcast dims. */
public final class Mul extends Node {
    private final Tensor a;
    private final Tensor b;

    private Mul(Var a, Var b) {
        super(a, b);
        this.a = a.data();
        this.b = b.data();
    }

    public static Var apply(Var a, Var b) {
        Tensor out = TensorMath.binary(BinaryOp.MUL, a.data(), b.data());
        return Var.result(out, Node.recording(a, b) ? new Mul(a, b) : null, a, b);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        return new Tensor[] {
            needs(0) ? TensorMath.sumToShape(TensorMath.binary(BinaryOp.MUL, g, b), a.shape()) : null,
            needs(1) ? TensorMath.sumToShape(TensorMath.binary(BinaryOp.MUL, g, a), b.shape()) : null,
        };
    }
}
