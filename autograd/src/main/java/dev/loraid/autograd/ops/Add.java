package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

/** {@code out = a·alpha + b·beta} with broadcasting (add, sub, residual adds). d/da = alpha, d/db = beta, summed over broadcast dims. */
public final class Add extends Node {
    private final double alpha;
    private final double beta;
    private final Shape aShape;
    private final Shape bShape;

    private Add(Var a, double alpha, Var b, double beta) {
        super(a, b);
        this.alpha = alpha;
        this.beta = beta;
        this.aShape = a.shape();
        this.bShape = b.shape();
    }

    public static Var apply(Var a, double alpha, Var b, double beta) {
        Tensor out = TensorMath.addScaled(a.data(), alpha, b.data(), beta);
        return Var.result(out, Node.recording(a, b) ? new Add(a, alpha, b, beta) : null, a, b);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        return new Tensor[] {
            needs(0) ? TensorMath.sumToShape(alpha == 1.0 ? g : TensorMath.scale(g, alpha), aShape) : null,
            needs(1) ? TensorMath.sumToShape(beta == 1.0 ? g : TensorMath.scale(g, beta), bShape) : null,
        };
    }
}
