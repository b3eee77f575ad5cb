package dev.loraid.wan;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.RMSNorm;
import dev.loraid.tensor.DType;

/**
 * {@code blocks.i.cross_attn} (spec wan.md §2.7 "CrossAttn"): queries from the video tokens, keys and values from
 * the embedded context; RMSNorm on q and k, no RoPE, no mask. With the 2.1 image branch the context starts with the
 * CLIP tokens, which get their own keys and values ({@code k_img}, {@code v_img}, {@code norm_k_img}) and their own
 * attention; both results are added before {@code o}. The image length is total − text_len (the official rule,
 * pitfall 13).
 */
final class WanCrossAttention extends Module {
    private final WanConfig config;
    final WanLinear q;
    final WanLinear k;
    final WanLinear v;
    final WanLinear o;
    private final RMSNorm normQ;
    private final RMSNorm normK;
    final WanLinear kImg;
    final WanLinear vImg;
    private final RMSNorm normKImg;
    private DType half;

    WanCrossAttention(WanConfig c) {
        this.config = c;
        long d = c.dim();
        this.q = registerModule("q", new WanLinear(d, d));
        this.k = registerModule("k", new WanLinear(d, d));
        this.v = registerModule("v", new WanLinear(d, d));
        this.o = registerModule("o", new WanLinear(d, d));
        this.normQ = registerModule("norm_q", RMSNorm.declared(d, c.eps(), DType.F32));
        this.normK = registerModule("norm_k", RMSNorm.declared(d, c.eps(), DType.F32));
        if (c.imageBranch()) {
            this.kImg = registerModule("k_img", new WanLinear(d, d));
            this.vImg = registerModule("v_img", new WanLinear(d, d));
            this.normKImg = registerModule("norm_k_img", RMSNorm.declared(d, c.eps(), DType.F32));
        } else {
            this.kImg = null;
            this.vImg = null;
            this.normKImg = null;
        }
    }

    /**
     * x [(B,) L, D] (after norm3), ctx [(B,) (image tokens +) text_len, D] → [(B,) L, D]; with a batch, sample b
     * attends to its own context ctx[b].
     */
    Var forward(Var x, Var ctx) {
        int tokens = ctx.rank() - 2;
        long rows = ctx.size(tokens);
        long textStart = rows - config.textLen();
        if (kImg != null && textStart == 0) {
            // a context without CLIP tokens (T2V Fun-Control): upstream's WanI2VCrossAttention still takes its first 257
            // rows as the image context and the rest as the text (musubi's quirk, reproduced: wan.md §2.7); a text
            // length of 257 or less (toy models only) keeps one text row, where upstream's text attention would be empty
            textStart = Math.min(WanConfig.CLIP_TOKENS, rows - 1);
        }
        Var text = ctx.narrow(tokens, textStart, rows - textStart);
        // mixed precision (spec §2.11): RMSNorm statistics in fp32, then q and k cast to the half dtype
        Var qs = split(normed(normQ, q, x));
        Var out = WanOps.attention(qs, split(normed(normK, k, text)), split(v.forward(text)));
        if (kImg != null) {
            Var image = ctx.narrow(tokens, 0, textStart);
            out = out.add(WanOps.attention(qs, split(normed(normKImg, kImg, image)), split(vImg.forward(image))));
        }
        return o.forward(out);
    }

    /** The activation dtype of q and k after their norms (v comes from its Linear): BF16/F16, or null for fp32. */
    void setActivations(DType half) {
        this.half = half;
    }

    private Var normed(RMSNorm norm, WanLinear proj, Var x) {
        return WanOps.activation(norm.forward(proj.forward(x)), half);
    }

    private Var split(Var x) {
        return WanOps.splitHeads(x, config.numHeads());
    }
}
