package dev.loraid.wan.text;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Var;
import dev.loraid.wan.WanLinear;

/**
 * {@code blocks.i.attn} (upstream {@code T5Attention}, spec vae-t5.md §3 step 2): q, k, v, o without biases;
 * {@code scores = q·kᵀ + bias} with <b>no</b> 1/sqrt(d) scaling (T5 folds it into the initialisation), softmax over
 * the keys in F32, then {@code o}. Composed from matmul, add and softmax: the {@code [H, L, L]} scores, biased
 * scores and probabilities are materialised (at L = 512 and 64 heads, 64 MiB each in F32, so about 256 MiB with the
 * bias per layer, released when the layer ends); a fused attention-with-bias op would remove them.
 */
final class Umt5Attention extends Module {
    private final Umt5Config config;
    private final WanLinear q;
    private final WanLinear k;
    private final WanLinear v;
    private final WanLinear o;

    Umt5Attention(Umt5Config c) {
        this.config = c;
        this.q = registerModule("q", WanLinear.withoutBias(c.dim(), c.dimAttn()));
        this.k = registerModule("k", WanLinear.withoutBias(c.dim(), c.dimAttn()));
        this.v = registerModule("v", WanLinear.withoutBias(c.dim(), c.dimAttn()));
        this.o = registerModule("o", WanLinear.withoutBias(c.dimAttn(), c.dim()));
    }

    /**
     * x [L, dim], bias [H, L, L] (position bias plus the key mask: the most negative float on padded keys) →
     * [L, dim]. Head n is channels {@code [n·hd, (n+1)·hd)} of q, k and v.
     */
    Var forward(Var x, Var bias) {
        long len = x.size(0);
        Var qh = heads(q.forward(x), len);
        Var kh = heads(k.forward(x), len);
        Var vh = heads(v.forward(x), len);
        Var probs = Ops.softmax(qh.matmul(kh.transpose(1, 2)).add(bias));
        return o.forward(probs.matmul(vh).permute(1, 0, 2).reshape(len, config.dimAttn()));
    }

    /** [L, H·hd] → [H, L, hd]. */
    private Var heads(Var x, long len) {
        return x.reshape(len, config.numHeads(), config.headDim()).permute(1, 0, 2);
    }
}
