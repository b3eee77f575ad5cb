package dev.loraid.wan.text;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.Backend;
import dev.loraid.tensor.BackendOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanLinear;

/**
 * {@code blocks.i.attn} (upstream {@code T5Attention}, spec vae-t5.md §3 step 2): q, k, v, o without biases;
 * {@code scores = q·kᵀ + bias} with <b>no</b> 1/sqrt(d) scaling (T5 folds it into the initialisation), softmax over
 * the keys in F32, then {@code o}. Where the backend has the fused {@code attentionWithBias} (the CPU, and CUDA up
 * to head dim 256), the position bias is read tile by tile into the score tiles: no [H, L, L] scores or probabilities
 * exist, only the bias itself (64 MiB in F32 at L = 512 and 64 heads). Elsewhere it is composed from matmul, add and
 * softmax, which materialises the scores, the biased scores and the probabilities.
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
     * x [L, dim], pos [H, L, L] the position bias, keyMask [1, 1, L] (0 on real keys, the most negative float on
     * padded ones), kvLengths {@code {real}} when the real keys are a prefix (right padding, as the tokenizer pads)
     * else null → [L, dim]. Head n is channels {@code [n·hd, (n+1)·hd)} of q, k and v. A prefix mask excludes the
     * padded keys (weight exactly 0, as the most negative float gives); a mask with holes is added into one copy of
     * the bias.
     */
    Var forward(Var x, Tensor pos, Tensor keyMask, int[] kvLengths) {
        long len = x.size(0);
        Tensor qh = heads(q.forward(x), len);
        Tensor kh = heads(k.forward(x), len);
        Tensor vh = heads(v.forward(x), len);
        Backend backend = qh.backend();
        Tensor merged = Tensor.empty(qh.device(), DType.F32, 1, len, config.numHeads(), config.headDim());
        Tensor out = merged.permute(0, 2, 1, 3);
        if (backend.supports(BackendOp.ATTENTION_WITH_BIAS, qh, kh, vh, pos.unsqueeze(0), out)) {
            Tensor bias = kvLengths != null ? pos : masked(pos, keyMask);
            backend.attentionWithBias(qh, kh, vh, bias.unsqueeze(0), 1.0, kvLengths, out);
            return o.forward(Var.constant(merged.view(len, config.dimAttn())));
        }
        Var full = Var.constant(masked(pos, keyMask));
        Var probs = Ops.softmax(Var.constant(qh.select(0, 0)).matmul(Var.constant(kh.select(0, 0)).transpose(1, 2)).add(full));
        return o.forward(probs.matmul(Var.constant(vh.select(0, 0))).permute(1, 0, 2).reshape(len, config.dimAttn()));
    }

    /** pos [H, L, L] + keyMask [1, 1, L]: one new [H, L, L] tensor. */
    private static Tensor masked(Tensor pos, Tensor keyMask) {
        return Var.constant(pos).add(Var.constant(keyMask)).data();
    }

    /** [L, H·hd] → [1, H, L, hd] (a view). */
    private Tensor heads(Var x, long len) {
        return x.data().reshape(1, len, config.numHeads(), config.headDim()).permute(0, 2, 1, 3);
    }
}
