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

    /** x [(B,) L, D], e [(B,) 1 or L, D] → [(B,) L, out_dim·pt·ph·pw]. */
    Var forward(Var x, Var e) {
        int pair = e.rank() - 1;
        Var mod = modulation.add(e.unsqueeze(pair)); // [(B,) 1 or L, 2, D]
        Var shift = mod.narrow(pair, 0, 1).squeeze(pair);
        Var scale = mod.narrow(pair, 1, 1).squeeze(pair);
        return head.forward(WanOps.modulate(WanOps.plainNorm(x, config.eps()), shift, scale));
    }
}
