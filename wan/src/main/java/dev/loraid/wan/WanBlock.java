package dev.loraid.wan;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.Activation;
import dev.loraid.autograd.nn.LayerNorm;
import dev.loraid.autograd.nn.Sequential;
import dev.loraid.tensor.DType;

/**
 * {@code blocks.i} (spec wan.md §2.7): modulated self-attention with a gate, cross-attention after the affine
 * {@code norm3} (no modulation, no gate), modulated FFN (GELU tanh) with a gate. The six modulation chunks are
 * {@code modulation + e0}: (shift, scale, gate) for attention, then for the FFN (pitfall 3).
 */
public final class WanBlock extends Module {
    private final WanConfig config;
    private final String name;
    private final Parameter modulation;
    final WanSelfAttention selfAttn;
    private final LayerNorm norm3;
    final WanCrossAttention crossAttn;
    final Sequential ffn;

    WanBlock(WanConfig c, int index) {
        this.config = c;
        this.name = "block" + index;
        long d = c.dim();
        this.modulation = registerParameter("modulation", Parameter.declared(DType.F32, 1, 6, d));
        this.selfAttn = registerModule("self_attn", new WanSelfAttention(c));
        this.norm3 = registerModule("norm3", LayerNorm.declared(d, c.eps(), DType.F32));
        this.crossAttn = registerModule("cross_attn", new WanCrossAttention(c));
        this.ffn = registerModule("ffn", Sequential.of(new WanLinear(d, c.ffnDim()), Activation.gelu(),
                new WanLinear(c.ffnDim(), d)));
    }

    /** x [L, D], e0 [1 or L, 6, D], ctx [context tokens, D] → the new residual stream [L, D]. */
    public Var forward(Var x, Var e0, Var ctx, RopeTables rope, WanTaps taps) {
        double eps = config.eps();
        Var mod = modulation.add(e0);
        Var attn = selfAttn.forward(WanOps.modulate(WanOps.plainNorm(x, eps), chunk(mod, 0), chunk(mod, 1)), rope,
                name + ".self_attn.", taps);
        taps.put(name + ".self_attn_out", attn.data());
        x = WanOps.gatedAdd(x, attn, chunk(mod, 2));

        Var cross = crossAttn.forward(norm3.forward(x), ctx);
        taps.put(name + ".cross_attn_out", cross.data());
        x = x.add(cross);

        Var h = ffn.forward(WanOps.modulate(WanOps.plainNorm(x, eps), chunk(mod, 3), chunk(mod, 4)));
        taps.put(name + ".ffn_out", h.data());
        x = WanOps.gatedAdd(x, h, chunk(mod, 5));
        taps.put(name + ".out", x.data());
        return x;
    }

    /** Modulation chunk k as [1 or L, D], broadcast over tokens. */
    private static Var chunk(Var mod, int k) {
        return mod.narrow(1, k, 1).squeeze(1);
    }
}
