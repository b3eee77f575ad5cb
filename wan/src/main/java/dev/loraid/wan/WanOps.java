package dev.loraid.wan;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;

/**
 * The operations the Wan DiT is written in, over [tokens, channels] activations in fp32 (spec wan.md §2.11:
 * a pure-fp32 port is the reference). Each returns a fresh tensor from the current memory scope.
 */
final class WanOps {
    private WanOps() {
    }

    static Tensor empty(Tensor like, long... dims) {
        return Tensor.empty(like.device(), DType.F32, dims);
    }

    /** {@code y = alpha · x·Wᵀ + b}: x [N, in], w [out, in] in its file dtype, b [out] or null. */
    static Tensor linear(Tensor x, Tensor w, Tensor b, double alpha) {
        Tensor out = empty(x, x.size(0), w.size(0));
        x.backend().matmul(x, w.transpose(0, 1), out, alpha, 0.0, b);
        return out;
    }

    static Tensor unary(UnaryOp op, Tensor x) {
        Tensor out = empty(x, x.shape().toArray());
        x.backend().unary(op, x, out);
        return out;
    }

    /** {@code a op b}, broadcast to a's shape. */
    static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        Tensor out = empty(a, dev.loraid.tensor.Shape.broadcast(a.shape(), b.shape()).toArray());
        a.backend().binary(op, a, b, out);
        return out;
    }

    /** {@code out[i] = table[index[i]]}: table [V, D], index I64 [N] → [N, D]. */
    static Tensor gatherRows(Tensor table, Tensor index) {
        Tensor out = empty(table, index.size(0), table.size(1));
        table.backend().gatherRows(table, index, out);
        return out;
    }

    /** LayerNorm over the last dimension; weight and bias null for the non-affine norms (norm1/2, head). */
    static Tensor layerNorm(Tensor x, Tensor weight, Tensor bias, double eps) {
        Tensor out = empty(x, x.shape().toArray());
        x.backend().layerNorm(x, weight, bias, eps, out, null, null);
        return out;
    }

    /** RMSNorm over the full last dimension (spec §2.7: q/k norms act on all D channels, before the head split). */
    static Tensor rmsNorm(Tensor x, Tensor weight, double eps) {
        Tensor out = empty(x, x.shape().toArray());
        x.backend().rmsNorm(x, weight, eps, out, null);
        return out;
    }

    /** {@code x·(1 + scale) + shift} (spec §2.7 steps 2 and 8), shift and scale broadcast over tokens. */
    static Tensor modulate(Tensor x, Tensor shift, Tensor scale) {
        Backend be = x.backend();
        Tensor onePlus = empty(scale, scale.shape().toArray());
        be.binaryScalar(BinaryOp.ADD, scale, 1.0, onePlus);
        Tensor out = binary(BinaryOp.MUL, x, onePlus);
        be.binary(BinaryOp.ADD, out, shift, out);
        return out;
    }

    /** {@code x + y·gate} (the gated residual adds). */
    static Tensor gatedAdd(Tensor x, Tensor y, Tensor gate) {
        Tensor out = binary(BinaryOp.MUL, y, gate);
        x.backend().binary(BinaryOp.ADD, x, out, out);
        return out;
    }

    /** 3-D RoPE on x [L, H, d] with cos/sin [L, d/2] (spec §2.8). */
    static Tensor rope(Tensor x, Tensor cos, Tensor sin) {
        Tensor out = empty(x, x.shape().toArray());
        x.backend().rope(x, cos, sin, false, out);
        return out;
    }

    /**
     * Multi-head attention without mask: q [Lq, H, d], k and v [Lk, H, d] → [Lq, H·d] (heads concatenated,
     * head-major, spec §2.7 step 6). Scale 1/sqrt(d).
     */
    static Tensor attention(Tensor q, Tensor k, Tensor v) {
        long lq = q.size(0);
        long h = q.size(1);
        long d = q.size(2);
        Tensor out = empty(q, lq, h, d);
        q.backend().attention(heads(q), heads(k), heads(v), 1.0 / Math.sqrt(d), null, heads(out), null);
        return out.reshape(lq, h * d);
    }

    /** [L, H, d] → the [1, H, L, d] view the attention kernel takes. */
    static Tensor heads(Tensor x) {
        return x.unsqueeze(0).permute(0, 2, 1, 3);
    }
}
