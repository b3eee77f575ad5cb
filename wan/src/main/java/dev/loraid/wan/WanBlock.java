package dev.loraid.wan;

import dev.loraid.autograd.Recompute;
import dev.loraid.autograd.Module;
import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.LayerNorm;
import dev.loraid.autograd.nn.Sequential;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;

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
    private boolean bf16Residual;
    /** The activation dtype of the sub-blocks' inputs under mixed precision (BF16/F16), or null for fp32. */
    private DType half;

    /** Block {@code index} of {@code c} with declared frozen parameters (loaded through {@code loadStateDict}). */
    public WanBlock(WanConfig c, int index) {
        this.config = c;
        this.name = "block" + index;
        long d = c.dim();
        this.modulation = registerParameter("modulation", Parameter.declared(DType.F32, 1, 6, d));
        this.selfAttn = registerModule("self_attn", new WanSelfAttention(c));
        this.norm3 = registerModule("norm3", LayerNorm.declared(d, c.eps(), DType.F32));
        this.crossAttn = registerModule("cross_attn", new WanCrossAttention(c));
        this.ffn = registerModule("ffn", Sequential.of(new WanLinear(d, c.ffnDim()), new WanGelu(),
                new WanLinear(c.ffnDim(), d)));
    }

    /** The activation dtype the normed and modulated inputs of the sub-blocks are cast to: BF16/F16, or null for fp32. */
    void setActivations(DType half) {
        this.half = half;
    }

    /** musubi parity (spec §2.11): round the residual stream to bf16 after every residual add. */
    void setBf16Residual(boolean on) {
        this.bf16Residual = on;
    }

    /**
     * x [L, D], e0 [1 or L, 6, D], ctx [context tokens, D] → the new residual stream [L, D] (differentiable); or a
     * batch of samples: x [B, L, D], e0 [B, 1 or L, 6, D], ctx [B, context tokens, D] → [B, L, D].
     */
    public Var forward(Var x, Var e0, Var ctx, RopeTables rope, WanTaps taps) {
        x = selfAttention(x, e0, rope, taps);
        x = crossAttention(x, ctx, taps);
        x = feedForward(x, e0, taps);
        taps.put(name + ".out", x.data());
        return x;
    }

    /**
     * {@link #forward} with its activations recomputed in the backward pass: block-level gradient checkpointing
     * (training.md §3.5, as upstream): the block is one autograd {@link Recompute}, so the forward keeps only its input
     * (the residual stream), and the backward recomputes the block's activations. Taps inside the block are not
     * reported. {@code offload} (or null) keeps the block's input in host memory until the backward pass.
     */
    public Var forwardRecomputed(Var x, Var e0, Var ctx, RopeTables rope, Recompute.Offload offload) {
        return Recompute.apply(this, offload, in -> feedForward(crossAttention(selfAttention(in[0], in[1], rope, WanTaps.NONE),
                in[2], WanTaps.NONE), in[1], WanTaps.NONE), x, e0, ctx);
    }

    /**
     * The same computation without a graph, updating the residual stream {@code x} [L, D] in place: each
     * sub-block's temporaries live in their own memory scope and are released as soon as its residual add is
     * copied back, so the peak is one sub-block's working set, not the whole network's.
     */
    void forwardInPlace(Tensor x, Var e0, Var ctx, RopeTables rope, WanTaps taps) {
        try (MemoryScope s = MemoryScope.open()) {
            x.backend().copy(selfAttention(Var.constant(x), e0, rope, taps).data(), x);
        }
        try (MemoryScope s = MemoryScope.open()) {
            x.backend().copy(crossAttention(Var.constant(x), ctx, taps).data(), x);
        }
        try (MemoryScope s = MemoryScope.open()) {
            x.backend().copy(feedForward(Var.constant(x), e0, taps).data(), x);
        }
        taps.put(name + ".out", x);
    }

    /** §2.7 step A: {@code x + gate·SelfAttn(LN(x)·(1 + scale) + shift)}. */
    private Var selfAttention(Var x, Var e0, RopeTables rope, WanTaps taps) {
        Var mod = modulation.add(e0);
        Var attn = selfAttn.forward(normedInput(x, chunk(mod, 0), chunk(mod, 1)), rope, name + ".self_attn.", taps);
        taps.put(name + ".self_attn_out", attn.data());
        return residual(WanOps.gatedAdd(x, attn, chunk(mod, 2)));
    }

    /** §2.7 step B: {@code x + CrossAttn(norm3(x), ctx)}, no modulation, no gate. */
    private Var crossAttention(Var x, Var ctx, WanTaps taps) {
        // norm3 recomputed in the backward pass, as the modulation below: its fp32 output dies with the cast
        Var cross = crossAttn.forward(half == null ? norm3.forward(x)
                : Recompute.apply(norm3, in -> WanOps.activation(norm3.forward(in[0]), half), x), ctx);
        taps.put(name + ".cross_attn_out", cross.data());
        return residual(x.add(cross));
    }

    /** §2.7 step C: {@code x + gate·FFN(LN(x)·(1 + scale) + shift)}. */
    private Var feedForward(Var x, Var e0, WanTaps taps) {
        Var mod = modulation.add(e0);
        Var h = ffn.forward(normedInput(x, chunk(mod, 3), chunk(mod, 4)));
        taps.put(name + ".ffn_out", h.data());
        return residual(WanOps.gatedAdd(x, h, chunk(mod, 5)));
    }

    /**
     * {@code LN(x)·(1 + scale) + shift} in the activation dtype, the input of self-attention and the FFN (§2.7 steps 2
     * and 8). Under mixed precision it is recomputed in the backward pass (a {@link Recompute} of its own, cheap
     * elementwise work): the graph keeps x and the half-precision result instead of the norm's, the product's and the
     * sum's fp32 outputs, three residual streams per use that no gradient needs (RESULTS "Backward memory": 843 -> 742
     * MiB on the train-step bench, no time lost; with fp32 activations only two, for 2-5 % of the step: not done there).
     */
    private Var normedInput(Var x, Var shift, Var scale) {
        if (half == null) {
            return WanOps.modulate(WanOps.plainNorm(x, config.eps()), shift, scale);
        }
        return Recompute.apply(in -> WanOps.activation(WanOps.modulate(WanOps.plainNorm(in[0], config.eps()), in[1], in[2]),
                half), x, shift, scale);
    }

    /** The new residual stream: fp32 as the official code keeps it, or rounded to bf16 as musubi stores it. */
    private Var residual(Var x) {
        return bf16Residual ? Ops.cast(Ops.cast(x, DType.BF16), x.dtype()) : x;
    }

    /** Modulation chunk k of mod [(B,) 1 or L, 6, D] as [(B,) 1 or L, D], broadcast over tokens. */
    private static Var chunk(Var mod, int k) {
        int chunks = mod.rank() - 2;
        return mod.narrow(chunks, k, 1).squeeze(chunks);
    }
}
