package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

/**
 * Scaled-dot-product attention {@code softmax(q·kᵀ·scale)·v} with q [B, H, Lq, D], k [B, H, Lk, D],
 * v [B, H, Lk, Dv] (usually permuted views of [B, L, H, D]). Forward and backward are the backend's fused,
 * tiled kernels: only the output and the per-row log-sum-exp are saved, the backward recomputes the
 * probabilities, and no [Lq, Lk] matrix is ever held (issue 4).
 */
public final class Attention extends Node {
    private final Tensor q;
    private final Tensor k;
    private final Tensor v;
    private final Tensor out;
    private final Tensor lse;
    private final double scale;
    private final int[] kvLengths;

    private Attention(Var q, Var k, Var v, Tensor out, Tensor lse, double scale, int[] kvLengths) {
        super(q, k, v);
        this.q = q.data();
        this.k = k.data();
        this.v = v.data();
        this.out = out;
        this.lse = lse;
        this.scale = scale;
        this.kvLengths = kvLengths;
    }

    /** @param kvLengths null, or per batch the number of valid keys (later keys are masked out) */
    public static Var apply(Var q, Var k, Var v, double scale, int[] kvLengths) {
        return apply(q, k, v, scale, kvLengths, TensorMath.computeType(q.data(), k.data(), v.data()));
    }

    /**
     * Mixed-precision attention: q, k, v all in one half dtype (BF16 or F16), the result in that dtype (fp32
     * accumulation and log-sum-exp inside the kernels). With BF16 the backward's dOut, dq, dk and dv are BF16 too;
     * with F16 they stay fp32: without loss scaling (upstream's fp16 GradScaler) small gradients would underflow
     * F16's range, while BF16 has fp32's exponent range.
     */
    public static Var applyHalf(Var q, Var k, Var v, double scale) {
        DType t = q.dtype();
        if (!isHalf(t) || k.dtype() != t || v.dtype() != t) {
            throw new IllegalArgumentException("half-precision attention: q " + t + ", k " + k.dtype() + ", v " + v.dtype()
                + ": expected all BF16 or all F16");
        }
        return apply(q, k, v, scale, null, t);
    }

    private static Var apply(Var q, Var k, Var v, double scale, int[] kvLengths, DType outType) {
        Tensor qd = q.data();
        Tensor kd = k.data();
        Tensor vd = v.data();
        if (qd.rank() != 4 || kd.rank() != 4 || vd.rank() != 4 || qd.size(3) != kd.size(3)
            || kd.size(2) != vd.size(2)) {
            throw new IllegalArgumentException("attention: q " + qd.shape() + ", k " + kd.shape() + ", v " + vd.shape()
                + ": expected [B, H, Lq, D], [B, H, Lk, D], [B, H, Lk, Dv]");
        }
        Tensor out = Tensor.empty(qd.device(), outType,
            qd.size(0), qd.size(1), qd.size(2), vd.size(3));
        boolean rec = Node.recording(q, k, v);
        Tensor lse = rec ? Tensor.empty(qd.device(), TensorMath.statsType(out.dtype()), qd.size(0), qd.size(1), qd.size(2)) : null;
        qd.backend().attention(qd, kd, vd, scale, kvLengths, out, lse);
        int[] lengths = kvLengths == null ? null : kvLengths.clone();
        return Var.result(out, rec ? new Attention(q, k, v, out, lse, scale, lengths) : null, q, k, v);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        boolean half = out.dtype() == DType.BF16; // see applyHalf: an F16 attention's backward stays fp32
        DType type = half ? out.dtype() : TensorMath.computeType(q, k, v, g);
        Tensor dOut = g.dtype() == type || !half ? g : TensorMath.cast(g, type);
        Tensor dq = TensorMath.empty(q, type, q.shape());
        Tensor dk = TensorMath.empty(k, type, k.shape());
        Tensor dv = TensorMath.empty(v, type, v.shape());
        q.backend().attentionBackward(q, k, v, out, dOut, lse, scale, kvLengths, dq, dk, dv);
        return new Tensor[] {needs(0) ? gradient(dq) : null, needs(1) ? gradient(dk) : null, needs(2) ? gradient(dv) : null};
    }

    /** A half-precision kernel gradient widened to the gradient dtype ({@link TensorMath#gradType}), else as it is. */
    private static Tensor gradient(Tensor d) {
        DType want = TensorMath.gradType(d.dtype());
        return d.dtype() == want ? d : TensorMath.cast(d, want);
    }

    private static boolean isHalf(DType t) {
        return t == DType.BF16 || t == DType.F16;
    }
}
