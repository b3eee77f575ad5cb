package dev.loraid.wan.clip;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.LayerNorm;
import dev.loraid.autograd.nn.Sequential;
import dev.loraid.tensor.DType;
import dev.loraid.wan.ErfGelu;
import dev.loraid.wan.WanLinear;

/**
 * {@code transformer.N} (upstream {@code AttentionBlock}, pre-norm): {@code x + attn(norm1(x))}, then
 * {@code x + mlp(norm2(x))} with {@code mlp} = Linear(dim → mlp) · GELU (exact erf: {@code activation='gelu'}) ·
 * Linear(mlp → dim), at indices 0 and 2 of upstream's Sequential. LayerNorms are affine with eps 1e-5.
 */
final class ClipBlock extends Module {
    private final LayerNorm norm1;
    private final ClipAttention attn;
    private final LayerNorm norm2;
    private final Sequential mlp;

    ClipBlock(ClipVisionConfig c) {
        this.norm1 = registerModule("norm1", LayerNorm.declared(c.dim(), ClipVisionConfig.EPS, DType.F32));
        this.attn = registerModule("attn", new ClipAttention(c));
        this.norm2 = registerModule("norm2", LayerNorm.declared(c.dim(), ClipVisionConfig.EPS, DType.F32));
        this.mlp = registerModule("mlp", Sequential.of(WanLinear.withBias(c.dim(), c.mlpDim()), new ErfGelu(),
                WanLinear.withBias(c.mlpDim(), c.dim())));
    }

    /** x [L, dim] → [L, dim]. */
    Var forward(Var x) {
        Var h = x.add(attn.forward(norm1.forward(x)));
        return h.add(mlp.forward(norm2.forward(h)));
    }
}
