package dev.loraid.wan;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;

/**
 * {@code head} (spec wan.md §2.9): {@code (shift, scale) = head.modulation + e} — e itself, the time_embedding
 * output, without SiLU (pitfall 2) — then a non-affine LayerNorm, the modulation and {@code head.head}.
 */
final class WanHead extends Module {
    private final WanConfig config;
    private final WanLinear head;
    private final Parameter modulation;

    WanHead(WanConfig c) {
        this.config = c;
        this.head = registerModule("head", new WanLinear(c.dim(), (long) c.outDim() * c.patchVolume()));
        this.modulation = registerParameter("modulation", Parameter.declared(DType.F32, 1, 2, c.dim()));
    }

    /** x [L, D], e [1 or L, D] → [L, out_dim·pt·ph·pw]. */
    Var forward(Var x, Var e) {
        Var mod = modulation.add(e.unsqueeze(1));
        Var shift = mod.narrow(1, 0, 1).squeeze(1);
        Var scale = mod.narrow(1, 1, 1).squeeze(1);
        return head.forward(WanOps.modulate(WanOps.plainNorm(x, config.eps()), shift, scale));
    }
}
