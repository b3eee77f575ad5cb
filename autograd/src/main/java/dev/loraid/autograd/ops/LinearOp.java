package dev.loraid.autograd.ops;

import dev.loraid.autograd.GradBuffer;
import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.Tensor;

/**
 * {@code y[..., out] = x[..., in] @ Wᵀ + bias}, W [out, in] (PyTorch layout), bias null or [out].
 * dx = g @ W; dW = gᵀ @ x over all rows; dbias = Σ_rows g. W may be a frozen BF16/FP8 weight read in its file
 * dtype by the GEMM: then dW is never computed (design.md "Precision", issue 4), only dx flows through it.
 */
public final class LinearOp extends Node {
    private final Tensor x;
    private final Tensor w;

    private LinearOp(Var x, Var w, Var bias) {
        super(x, w, bias);
        this.x = x.data();
        this.w = w.data();
    }

    public static Var apply(Var x, Var w, Var bias) {
        return apply(x, w, bias, null);
    }

    /**
     * @param out the result dtype, or null for the precision rule's ({@link TensorMath#computeType}): a BF16/F16
     *            result is a mixed-precision activation, accumulated in fp32 by the GEMM and rounded once as written
     */
    public static Var apply(Var x, Var w, Var bias, DType out) {
        Tensor xd = x.data();
        Tensor wd = w.data();
        if (wd.rank() != 2 || xd.rank() < 1 || xd.size(-1) != wd.size(1)) {
            throw new IllegalArgumentException("linear: input " + xd.shape() + " does not match weight " + wd.shape()
                + " (expected [..., in] and [out, in])");
        }
        Tensor bd = bias == null ? null : bias.data();
        if (bd != null && (bd.rank() != 1 || bd.size(0) != wd.size(0))) {
            throw new IllegalArgumentException("linear: bias " + bd.shape() + " does not match weight " + wd.shape());
        }
        Tensor x2 = xd.rank() == 1 ? xd.unsqueeze(0) : xd;
        Tensor y = TensorMath.matmulInto(x2, wd.transpose(0, 1), bd, out != null ? out : TensorMath.computeType(xd, wd, bd));
        if (xd.rank() == 1) {
            y = y.squeeze(0);
        }
        return Var.result(y, Node.recording(x, w, bias) ? new LinearOp(x, w, bias) : null, x, w, bias);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        return backward(g, new GradBuffer[3]);
    }

    @Override
    protected Tensor[] backward(Tensor g, GradBuffer[] into) {
        Tensor dx = null;
        Tensor dw = null;
        Tensor db = null;
        if (needs(0)) {
            Tensor g2 = g.rank() == 1 ? g.unsqueeze(0) : g;
            dx = TensorMath.matmulGrad(g2, w, 1.0, into[0], x.shape());
        }
        Tensor gRows = g.reshape(-1, g.size(-1));
        if (needs(1)) {
            Tensor xRows = x.reshape(-1, x.size(-1));
            dw = TensorMath.matmulGrad(gRows.transpose(0, 1), xRows, 1.0, into[1], w.shape());
        }
        if (needs(2)) {
            db = TensorMath.reduce(ReduceOp.SUM, gRows, new int[] {0}, false);
        }
        return new Tensor[] {dx, dw, db};
    }
}
