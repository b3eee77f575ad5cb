package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.Tensor;

/**
 * Batched matrix product {@code out[..., M, N] = a[..., M, K] @ b[..., K, N]}, batch dimensions broadcast.
 * da = g @ bᵀ, db = aᵀ @ g (summed over broadcast batch dimensions; a shared 2-D b is reduced in one GEMM over
 * all rows). A b that does not require a gradient (a frozen weight) is only ever read.
 */
public final class MatMul extends Node {
    private final Tensor a;
    private final Tensor b;

    private MatMul(Var a, Var b) {
        super(a, b);
        this.a = a.data();
        this.b = b.data();
    }

    public static Var apply(Var a, Var b) {
        Tensor out = TensorMath.matmul(a.data(), b.data());
        return Var.result(out, Node.recording(a, b) ? new MatMul(a, b) : null, a, b);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        Tensor da = null;
        Tensor db = null;
        if (needs(0)) {
            da = TensorMath.sumToShape(TensorMath.matmul(g, b.transpose(-1, -2)), a.shape());
        }
        if (needs(1)) {
            if (b.rank() == 2 && a.rank() > 2) {
                // [rows, K]ᵀ @ [rows, N]: one GEMM instead of a batch of products and a reduction
                Tensor a2 = a.reshape(-1, a.size(-1));
                Tensor g2 = g.reshape(-1, g.size(-1));
                db = TensorMath.matmul(a2.transpose(0, 1), g2);
            } else {
                db = TensorMath.sumToShape(TensorMath.matmul(a.transpose(-1, -2), g), b.shape());
            }
        }
        return new Tensor[] {da, db};
    }
}
