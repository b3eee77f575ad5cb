package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

/** Same elements, new shape (a view when the strides allow, else a copy). The gradient is reshaped back. */
public final class Reshape extends Node {
    private final Shape inShape;

    private Reshape(Var x) {
        super(x);
        this.inShape = x.shape();
    }

    public static Var apply(Var x, long... dims) {
        Tensor out = x.data().reshape(dims);
        return Var.result(out, Node.recording(x) ? new Reshape(x) : null, x);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        return new Tensor[] {g.reshape(inShape.toArray())};
    }
}
