package dev.loraid.wan.clip;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Var;
import dev.loraid.wan.WanLinear;

/**
 * {@code transformer.N.attn} (upstream {@code SelfAttention}): one {@code to_qkv} Linear (dim → 3·dim, with bias) whose
 * output splits as [L, 3, heads, head_dim] into q, k, v; unmasked attention at scale 1/√head_dim; {@code proj}.
 */
final class ClipAttention extends Module {
    private final ClipVisionConfig config;
    private final WanLinear toQkv;
    private final WanLinear proj;

    ClipAttention(ClipVisionConfig c) {
        this.config = c;
        this.toQkv = registerModule("to_qkv", WanLinear.withBias(c.dim(), 3L * c.dim()));
        this.proj = registerModule("proj", WanLinear.withBias(c.dim(), c.dim()));
    }

    /** x [L, dim] → [L, dim]. */
    Var forward(Var x) {
        long len = x.size(0);
        int h = config.heads();
        long d = config.dim() / h;
        Var qkv = toQkv.forward(x).reshape(len, 3, h, d);
        Var q = qkv.narrow(1, 0, 1).reshape(1, len, h, d).permute(0, 2, 1, 3);
        Var k = qkv.narrow(1, 1, 1).reshape(1, len, h, d).permute(0, 2, 1, 3);
        Var v = qkv.narrow(1, 2, 1).reshape(1, len, h, d).permute(0, 2, 1, 3);
        Var out = Ops.attention(q, k, v).permute(0, 2, 1, 3).reshape(len, config.dim());
        return proj.forward(out);
    }
}
