package dev.loraid.wan;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.RMSNorm;
import dev.loraid.tensor.DType;

/**
 * {@code blocks.i.self_attn} (spec wan.md §2.7 "SelfAttn"): q, k, v projections, RMSNorm of q and k over the full
 * width before the head split (pitfall 5), 3-D RoPE on q and k, global attention without mask, then {@code o}.
 */
final class WanSelfAttention extends Module {
    private final WanConfig config;
    final WanLinear q;
    final WanLinear k;
    final WanLinear v;
    final WanLinear o;
    private final RMSNorm normQ;
    private final RMSNorm normK;

    private DType half;

    WanSelfAttention(WanConfig c) {
        this.config = c;
        long d = c.dim();
        this.q = registerModule("q", new WanLinear(d, d));
        this.k = registerModule("k", new WanLinear(d, d));
        this.v = registerModule("v", new WanLinear(d, d));
        this.o = registerModule("o", new WanLinear(d, d));
        this.normQ = registerModule("norm_q", RMSNorm.declared(d, c.eps(), DType.F32));
        this.normK = registerModule("norm_k", RMSNorm.declared(d, c.eps(), DType.F32));
    }

    /** The activation dtype of q and k after norm and RoPE (v comes from its Linear): BF16/F16, or null for fp32. */
    void setActivations(DType half) {
        this.half = half;
    }

    /**
     * a [(B,) L, D] → [(B,) L, D]; every sample of a batch has the same token grid, so one RoPE table [L, d/2]
     * serves them all. q and k after RoPE are tapped as {@code <tap>q}, {@code <tap>k}.
     */
    Var forward(Var a, RopeTables rope, String tap, WanTaps taps) {
        long h = config.numHeads();
        a = WanOps.activation(a, half); // cast once for the three projections (and their adapters)
        Var qr = rotated(normQ.forward(q.forward(a)), rope);
        Var kr = rotated(normK.forward(k.forward(a)), rope);
        taps.put(tap + "q", qr.data());
        taps.put(tap + "k", kr.data());
        return o.forward(WanOps.attention(qr, kr, WanOps.splitHeads(v.forward(a), h)));
    }

    /**
     * The normed q or k [(B,) L, D] split into heads and rotated: under mixed precision (spec §2.11) the RMSNorm
     * statistics and the rotation are fp32, the result is written in the half dtype (as upstream, which rotates in
     * float64 and writes bf16); F64 (gradient checks) stays F64.
     */
    private Var rotated(Var normed, RopeTables rope) {
        Var heads = WanOps.splitHeads(normed, config.numHeads());
        DType out = heads.dtype() == DType.F64 ? null : half;
        return Ops.rope(heads, rope.cos(), rope.sin(), out);
    }
}
