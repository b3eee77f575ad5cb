package dev.loraid.wan;

import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;

import java.util.Arrays;

/**
 * The composite operations the Wan DiT is written in (spec wan.md §2.7), over [tokens, channels] values, or
 * [B, tokens, channels] for a batch of samples (each sample attends only to its own tokens).
 */
final class WanOps {
    private WanOps() {
    }

    /** {@code x·(1 + scale) + shift} (§2.7 steps 2 and 8, §2.9), shift and scale broadcast over tokens. */
    static Var modulate(Var x, Var shift, Var scale) {
        return x.mul(Ops.addConstant(scale, 1.0)).add(shift);
    }

    /** {@code x + y·gate} (the gated residual adds, §2.7 steps 4 and 10); the product is not kept for the backward pass. */
    static Var gatedAdd(Var x, Var y, Var gate) {
        return Ops.addProduct(x, y, gate);
    }

    /** Non-affine LayerNorm over the channels (norm1, norm2, head.norm have no parameters, pitfall 4). */
    static Var plainNorm(Var x, double eps) {
        return Ops.layerNorm(x, null, null, eps);
    }

    /**
     * Multi-head attention without mask: q [(B,) Lq, H, d], k and v [(B,) Lk, H, d] → [(B,) Lq, H·d], heads
     * concatenated head-major (§2.7 step 6). Scale 1/sqrt(d).
     */
    static Var attention(Var q, Var k, Var v) {
        // half-precision q, k, v (mixed precision, WanModel#setActivationDType): result and backward in that dtype
        Var out = (isHalf(q.dtype()) ? Ops.attentionHalf(heads(q), heads(k), heads(v))
                : Ops.attention(heads(q), heads(k), heads(v))).permute(0, 2, 1, 3); // [B, Lq, H, d]
        long width = q.size(-2) * q.size(-1);
        return q.rank() == 3 ? out.reshape(q.size(0), width) : out.reshape(q.size(0), q.size(1), width);
    }

    /**
     * x in the activation dtype {@code half} (BF16/F16 under mixed precision, WanModel#setActivationDType); x as it
     * is when half is null (fp32 activations) or x is F64 (gradient checks).
     */
    static Var activation(Var x, DType half) {
        return half == null || x.dtype() == half || x.dtype() == DType.F64 ? x : Ops.cast(x, half);
    }

    static boolean isHalf(DType t) {
        return t == DType.BF16 || t == DType.F16;
    }

    /** [(B,) N, D] → [(B,) N, H, D/H]. */
    static Var splitHeads(Var x, long heads) {
        long[] dims = Arrays.copyOf(x.shape().toArray(), x.rank() + 1);
        dims[x.rank() - 1] = heads;
        dims[x.rank()] = x.size(-1) / heads;
        return x.reshape(dims);
    }

    /** [(B,) L, H, d] → the [B, H, L, d] view the attention op takes (B = 1 without a batch dimension). */
    private static Var heads(Var x) {
        return (x.rank() == 3 ? x.unsqueeze(0) : x).permute(0, 2, 1, 3);
    }
}
