package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

/** Broadcasts size-1 dimensions (a stride-0 view). The gradient is summed over the broadcast dimensions. */
public final class Expand extends Node {
    private final Shape inShape;

    private Expand(Var x) {
        super(x);
        this.inShape = x.shape();
    }

    public static Var apply(Var x, long... dims) {
        Tensor out = x.data().expand(dims);
        return Var.result(out, Node.recording(x) ? new Expand(x) : null, x);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        return new Tensor[] {TensorMath.sumToShape(g, inShape)};
    }
}
