package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.Tensor;

/** Softmax over the last dimension. dx = y · (g − Σ g·y), from the saved output y. */
public final class Softmax extends Node {
    private final Tensor y;

    private Softmax(Var x, Tensor y) {
        super(x);
        this.y = y;
    }

    public static Var apply(Var x) {
        Tensor xd = x.data();
        Tensor y = TensorMath.empty(xd, TensorMath.computeType(xd), xd.shape());
        xd.backend().softmax(xd, y);
        return Var.result(y, Node.recording(x) ? new Softmax(x, y) : null, x);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        Tensor dx = TensorMath.empty(y, y.dtype(), y.shape());
        y.backend().softmaxBackward(y, g, dx);
        return new Tensor[] {dx};
    }
}
