package dev.loraid.wan;

import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Var;

/** The composite operations the Wan DiT is written in (spec wan.md §2.7), over [tokens, channels] values. */
final class WanOps {
    private WanOps() {
    }

    /** {@code x·(1 + scale) + shift} (§2.7 steps 2 and 8, §2.9), shift and scale broadcast over tokens. */
    static Var modulate(Var x, Var shift, Var scale) {
        return x.mul(Ops.addConstant(scale, 1.0)).add(shift);
    }

    /** {@code x + y·gate} (the gated residual adds, §2.7 steps 4 and 10). */
    static Var gatedAdd(Var x, Var y, Var gate) {
        return x.add(y.mul(gate));
    }

    /** Non-affine LayerNorm over the channels (norm1, norm2, head.norm have no parameters, pitfall 4). */
    static Var plainNorm(Var x, double eps) {
        return Ops.layerNorm(x, null, null, eps);
    }

    /**
     * Multi-head attention without mask: q [Lq, H, d], k and v [Lk, H, d] → [Lq, H·d], heads concatenated
     * head-major (§2.7 step 6). Scale 1/sqrt(d).
     */
    static Var attention(Var q, Var k, Var v) {
        long lq = q.size(0);
        Var out = Ops.attention(heads(q), heads(k), heads(v));
        return out.permute(0, 2, 1, 3).reshape(lq, q.size(1) * q.size(2));
    }

    /** [L, H, d] → the [1, H, L, d] view the attention op takes. */
    private static Var heads(Var x) {
        return x.unsqueeze(0).permute(0, 2, 1, 3);
    }
}
