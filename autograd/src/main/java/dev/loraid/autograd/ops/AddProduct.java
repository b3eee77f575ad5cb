package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

/**
 * {@code out = a + b·c} with broadcasting (PyTorch's {@code addcmul}; a gated residual add). The same arithmetic as
 * {@code a.add(b.mul(c))}, but the product is a temporary given back at once instead of an output the graph holds:
 * d/da = g, d/db = g·c, d/dc = g·b, summed over broadcast dims.
 */
public final class AddProduct extends Node {
    private final Shape aShape;
    private final Tensor b;
    private final Tensor c;

    private AddProduct(Var a, Var b, Var c) {
        super(a, b, c);
        this.aShape = a.shape();
        this.b = b.data();
        this.c = c.data();
    }

    public static Var apply(Var a, Var b, Var c) {
        long mark = MemoryScope.mark();
        Tensor product = TensorMath.binary(BinaryOp.MUL, b.data(), c.data());
        Tensor out = TensorMath.addScaled(a.data(), 1.0, product, 1.0);
        MemoryScope.release(product, mark);
        return Var.result(out, Node.recording(a, b, c) ? new AddProduct(a, b, c) : null, a, b, c);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        return new Tensor[] {
            needs(0) ? TensorMath.sumToShape(g, aShape) : null,
            needs(1) ? TensorMath.sumToShape(TensorMath.binary(BinaryOp.MUL, g, c), b.shape()) : null,
            needs(2) ? TensorMath.sumToShape(TensorMath.binary(BinaryOp.MUL, g, b), c.shape()) : null,
        };
    }
}
