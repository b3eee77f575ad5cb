package dev.loraid.wan;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.Layer;
import dev.loraid.tensor.UnaryOp;

/**
 * GELU (tanh approximation) between two Linears ({@code ffn.1}, {@code text_embedding.1}): computed in fp32 and
 * written in its input's dtype when that is a mixed-precision half dtype — upstream's autocast keeps GELU in bf16 —
 * so the FFN's widest activation is not stored in fp32 and cast again for the next Linear (spec wan.md §2.7 step 9,
 * §2.11); fp32 and fp64 inputs as the precision rule has them.
 */
final class WanGelu extends Module implements Layer {
    @Override
    public Var forward(Var x) {
        return Ops.unary(UnaryOp.GELU_TANH, x, WanOps.isHalf(x.dtype()) ? x.dtype() : null);
    }
}
