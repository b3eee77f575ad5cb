package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

/** {@code out = a / b} with broadcasting. d/da = g/b, d/db = −g·a/b² = −(g/b)·out. */
public final class Div extends Node {
    private final Tensor b;
    private final Tensor out;
    private final Shape aShape;

    private Div(Var a, Var b, Tensor out) {
        super(a, b);
        this.b = b.data();
        this.out = out;
        this.aShape = a.shape();
    }

    public static Var apply(Var a, Var b) {
        Tensor out = TensorMath.binary(BinaryOp.DIV, a.data(), b.data());
        return Var.result(out, Node.recording(a, b) ? new Div(a, b, out) : null, a, b);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        Tensor gOverB = TensorMath.binary(BinaryOp.DIV, g, b);
        return new Tensor[] {
            needs(0) ? TensorMath.sumToShape(gOverB, aShape) : null,
            needs(1) ? TensorMath.sumToShape(TensorMath.scale(TensorMath.binary(BinaryOp.MUL, gOverB, out), -1.0), b.shape()) : null,
        };
    }
}
