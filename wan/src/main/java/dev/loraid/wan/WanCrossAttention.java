package dev.loraid.wan;

import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.Tensor;

/**
 * {@code blocks.i.cross_attn} (spec wan.md §2.7 "CrossAttn"): queries from the video tokens, keys and values from
 * the embedded context; RMSNorm on q and k, no RoPE, no mask. With the 2.1 image branch the context starts with the
 * CLIP tokens, which get their own keys and values ({@code k_img}, {@code v_img}, {@code norm_k_img}) and their own
 * attention; both results are added before {@code o}. The image length is total − text_len (the official rule,
 * pitfall 13).
 */
final class WanCrossAttention {
    private final WanConfig config;
    private final WanLinear q;
    private final WanLinear k;
    private final WanLinear v;
    private final WanLinear o;
    private final Tensor normQ;
    private final Tensor normK;
    private final WanLinear kImg;
    private final WanLinear vImg;
    private final Tensor normKImg;

    WanCrossAttention(WanWeights w, WanConfig c, String prefix) {
        this.config = c;
        long d = c.dim();
        this.q = new WanLinear(w, prefix + "q", d, d);
        this.k = new WanLinear(w, prefix + "k", d, d);
        this.v = new WanLinear(w, prefix + "v", d, d);
        this.o = new WanLinear(w, prefix + "o", d, d);
        this.normQ = w.get(prefix + "norm_q.weight", d);
        this.normK = w.get(prefix + "norm_k.weight", d);
        if (c.imageBranch()) {
            this.kImg = new WanLinear(w, prefix + "k_img", d, d);
            this.vImg = new WanLinear(w, prefix + "v_img", d, d);
            this.normKImg = w.get(prefix + "norm_k_img.weight", d);
        } else {
            this.kImg = null;
            this.vImg = null;
            this.normKImg = null;
        }
    }

    /** x [L, D] (after norm3), ctx [(image tokens +) text_len, D] → [L, D]. */
    Tensor forward(Tensor x, Tensor ctx) {
        long len = x.size(0);
        long h = config.numHeads();
        long hd = config.headDim();
        long textStart = ctx.size(0) - config.textLen();
        Tensor text = ctx.narrow(0, textStart, config.textLen());
        Tensor qs = WanOps.rmsNorm(q.forward(x), normQ, config.eps()).view(len, h, hd);
        Tensor out = WanOps.attention(qs, keys(k, normK, text), values(v, text));
        if (kImg != null) {
            Tensor image = ctx.narrow(0, 0, textStart);
            Tensor img = WanOps.attention(qs, keys(kImg, normKImg, image), values(vImg, image));
            x.backend().binary(BinaryOp.ADD, out, img, out);
        }
        return o.forward(out);
    }

    private Tensor keys(WanLinear proj, Tensor norm, Tensor ctx) {
        return WanOps.rmsNorm(proj.forward(ctx), norm, config.eps()).view(ctx.size(0), config.numHeads(), config.headDim());
    }

    private Tensor values(WanLinear proj, Tensor ctx) {
        return proj.forward(ctx).view(ctx.size(0), config.numHeads(), config.headDim());
    }
}
