package dev.loraid.autograd.ops;

import dev.loraid.autograd.GradBuffer;
import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

/**
 * {@code out[..., O] = base[..., O] + scale · h[..., R] @ Wᵀ}, W [O, R]: a LoRA's up-projection added onto the
 * base Linear's output by the GEMM itself (beta = 1), instead of a product, a scaling and an addition that each
 * stream the whole activation through memory. d base = g; dh = scale · g @ W; dW = scale · gᵀ @ h over all rows.
 */
public final class LinearAdd extends Node {
    private final Tensor h;
    private final Tensor w;
    private final double scale;

    private LinearAdd(Var base, Var h, Var w, double scale) {
        super(base, h, w);
        this.h = h.data();
        this.w = w.data();
        this.scale = scale;
    }

    /**
     * @param inPlace add into base's own memory when it is contiguous in the compute dtype or a half dtype (BF16,
     *                F16: the result then stays in it, with fp32 accumulation inside the GEMM): only for a base that
     *                nothing reads afterwards and whose op does not keep it for its backward (a Linear's output
     *                handed to its adapter); saves a copy of the output and a second output-sized buffer
     */
    public static Var apply(Var base, Var h, Var w, double scale, boolean inPlace) {
        Tensor bd = base.data();
        Tensor hd = h.data();
        Tensor wd = w.data();
        if (wd.rank() != 2 || hd.rank() < 2 || hd.size(-1) != wd.size(1) || bd.rank() != hd.rank()
            || bd.size(-1) != wd.size(0) || !sameLeading(bd, hd)) {
            throw new IllegalArgumentException("linearAdd: base " + bd.shape() + ", h " + hd.shape() + ", weight " + wd.shape()
                + ": expected [..., O], [..., R] and [O, R]");
        }
        DType type = TensorMath.computeType(bd, hd, wd);
        Tensor out = bd;
        // a half-precision base (a mixed-precision Linear's output) keeps its dtype: the sum is rounded once
        boolean ownType = bd.dtype() == type || bd.dtype() == DType.BF16 || bd.dtype() == DType.F16;
        if (!(inPlace && ownType && bd.isContiguous())) {
            out = TensorMath.empty(bd, type, bd.shape());
            bd.backend().copy(bd, out);
        }
        bd.backend().matmul(hd, wd.transpose(0, 1), out, scale, 1.0, null);
        return Var.result(out, Node.recording(base, h, w) ? new LinearAdd(base, h, w, scale) : null, base, h, w);
    }

    private static boolean sameLeading(Tensor a, Tensor b) {
        for (int i = 0; i < a.rank() - 1; i++) {
            if (a.size(i) != b.size(i)) {
                return false;
            }
        }
        return true;
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        return backward(g, new GradBuffer[3]);
    }

    @Override
    protected Tensor[] backward(Tensor g, GradBuffer[] into) {
        Tensor dh = needs(1) ? TensorMath.matmulGrad(g, w, scale, into[1], h.shape()) : null;
        Tensor dw = null;
        if (needs(2)) {
            Tensor gRows = g.reshape(-1, g.size(-1));
            Tensor hRows = h.reshape(-1, h.size(-1));
            dw = TensorMath.matmulGrad(gRows.transpose(0, 1), hRows, scale, into[2], w.shape());
        }
        return new Tensor[] {needs(0) ? g : null, dh, dw};
    }
}
