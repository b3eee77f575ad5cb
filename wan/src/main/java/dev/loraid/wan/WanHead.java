package dev.loraid.wan;

import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.Tensor;

/**
 * {@code head} (spec wan.md §2.9): {@code (shift, scale) = head.modulation + e} — e itself, the time_embedding
 * output, without SiLU (pitfall 2) — then a non-affine LayerNorm, the modulation and {@code head.head}.
 */
final class WanHead {
    private final WanConfig config;
    private final Tensor modulation;
    private final WanLinear head;

    WanHead(WanWeights w, WanConfig c) {
        this.config = c;
        this.modulation = w.get("head.modulation", 1, 2, c.dim());
        this.head = new WanLinear(w, "head.head", c.dim(), (long) c.outDim() * c.patchVolume());
    }

    /** x [L, D], e [1 or L, D] → [L, out_dim·pt·ph·pw]. */
    Tensor forward(Tensor x, Tensor e) {
        Tensor mod = WanOps.binary(BinaryOp.ADD, modulation, e.unsqueeze(1));
        Tensor z = WanOps.modulate(WanOps.layerNorm(x, null, null, config.eps()), mod.select(1, 0), mod.select(1, 1));
        return head.forward(z);
    }
}
