package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

/** A slice of one dimension (a view). The gradient is zero outside the slice. */
public final class Narrow extends Node {
    private final Shape inShape;
    private final int dim;
    private final long start;

    private Narrow(Var x, int dim, long start) {
        super(x);
        this.inShape = x.shape();
        this.dim = dim;
        this.start = start;
    }

    public static Var apply(Var x, int dim, long start, long length) {
        Tensor out = x.data().narrow(dim, start, length);
        return Var.result(out, Node.recording(x) ? new Narrow(x, dim, start) : null, x);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        Tensor dx = TensorMath.zeros(g, TensorMath.computeType(g), inShape);
        g.backend().copy(g, dx.narrow(dim, start, g.size(dim)));
        return new Tensor[] {dx};
    }
}
