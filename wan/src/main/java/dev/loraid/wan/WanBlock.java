package dev.loraid.wan;

import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;

/**
 * {@code blocks.i} (spec wan.md §2.7): modulated self-attention with a gate, cross-attention after the affine
 * {@code norm3} (no modulation, no gate), modulated FFN (GELU tanh) with a gate. The six modulation chunks are
 * {@code modulation + e0}: (shift, scale, gate) for attention, then for the FFN (pitfall 3).
 */
final class WanBlock {
    private final WanConfig config;
    private final Tensor modulation;
    private final WanSelfAttention selfAttn;
    private final Tensor norm3Weight;
    private final Tensor norm3Bias;
    private final WanCrossAttention crossAttn;
    private final WanLinear ffn0;
    private final WanLinear ffn2;
    private final String name;

    WanBlock(WanWeights w, WanConfig c, int index) {
        this.config = c;
        this.name = "block" + index;
        String p = "blocks." + index + ".";
        long d = c.dim();
        this.modulation = w.get(p + "modulation", 1, 6, d);
        this.selfAttn = new WanSelfAttention(w, c, p + "self_attn.");
        this.norm3Weight = w.get(p + "norm3.weight", d);
        this.norm3Bias = w.get(p + "norm3.bias", d);
        this.crossAttn = new WanCrossAttention(w, c, p + "cross_attn.");
        this.ffn0 = new WanLinear(w, p + "ffn.0", d, c.ffnDim());
        this.ffn2 = new WanLinear(w, p + "ffn.2", c.ffnDim(), d);
    }

    /** x [L, D], e0 [1 or L, 6, D], ctx [context tokens, D] → the new residual stream [L, D]. */
    Tensor forward(Tensor x, Tensor e0, Tensor ctx, RopeTables rope, WanTaps taps) {
        double eps = config.eps();
        Tensor mod = WanOps.binary(BinaryOp.ADD, modulation, e0);
        Tensor a = WanOps.modulate(WanOps.layerNorm(x, null, null, eps), chunk(mod, 0), chunk(mod, 1));
        Tensor attn = selfAttn.forward(a, rope.cos(), rope.sin(), name + ".self_attn.", taps);
        taps.put(name + ".self_attn_out", attn);
        x = WanOps.gatedAdd(x, attn, chunk(mod, 2));

        Tensor cross = crossAttn.forward(WanOps.layerNorm(x, norm3Weight, norm3Bias, eps), ctx);
        taps.put(name + ".cross_attn_out", cross);
        x = WanOps.binary(BinaryOp.ADD, x, cross);

        Tensor g = WanOps.modulate(WanOps.layerNorm(x, null, null, eps), chunk(mod, 3), chunk(mod, 4));
        Tensor ffn = ffn2.forward(WanOps.unary(UnaryOp.GELU_TANH, ffn0.forward(g)));
        taps.put(name + ".ffn_out", ffn);
        x = WanOps.gatedAdd(x, ffn, chunk(mod, 5));
        taps.put(name + ".out", x);
        return x;
    }

    /** Modulation chunk k as [1 or L, D], broadcast over tokens. */
    private static Tensor chunk(Tensor mod, int k) {
        return mod.select(1, k);
    }
}
