package dev.loraid.wan;

import dev.loraid.tensor.Tensor;

/**
 * {@code blocks.i.self_attn} (spec wan.md §2.7 "SelfAttn"): q, k, v projections, RMSNorm of q and k over the full
 * width before the head split (pitfall 5), 3-D RoPE on q and k, global attention without mask, then {@code o}.
 */
final class WanSelfAttention {
    private final WanConfig config;
    private final WanLinear q;
    private final WanLinear k;
    private final WanLinear v;
    private final WanLinear o;
    private final Tensor normQ;
    private final Tensor normK;

    WanSelfAttention(WanWeights w, WanConfig c, String prefix) {
        this.config = c;
        long d = c.dim();
        this.q = new WanLinear(w, prefix + "q", d, d);
        this.k = new WanLinear(w, prefix + "k", d, d);
        this.v = new WanLinear(w, prefix + "v", d, d);
        this.o = new WanLinear(w, prefix + "o", d, d);
        this.normQ = w.get(prefix + "norm_q.weight", d);
        this.normK = w.get(prefix + "norm_k.weight", d);
    }

    /** a [L, D] → [L, D]; {@code tap} prefixes the names of the tapped q and k (after RoPE). */
    Tensor forward(Tensor a, Tensor ropeCos, Tensor ropeSin, String tap, WanTaps taps) {
        long len = a.size(0);
        long h = config.numHeads();
        long hd = config.headDim();
        Tensor qs = WanOps.rmsNorm(q.forward(a), normQ, config.eps()).view(len, h, hd);
        Tensor ks = WanOps.rmsNorm(k.forward(a), normK, config.eps()).view(len, h, hd);
        Tensor vs = v.forward(a).view(len, h, hd);
        Tensor qr = WanOps.rope(qs, ropeCos, ropeSin);
        Tensor kr = WanOps.rope(ks, ropeCos, ropeSin);
        taps.put(tap + "q", qr);
        taps.put(tap + "k", kr);
        return o.forward(WanOps.attention(qr, kr, vs));
    }
}
