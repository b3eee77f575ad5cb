package dev.loraid.wan;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.Layer;
import dev.loraid.tensor.UnaryOp;

/**
 * GELU with the exact erf, {@code x·Φ(x) = ½·x·erfc(−x/√2)}, as CLIP and {@code img_emb} use it (pitfall 10; the DiT's
 * and UMT5's GELU is the tanh approximation): the backend's {@link UnaryOp#GELU_ERF}, one pass forward and one backward.
 */
public final class ErfGelu extends Module implements Layer {
    @Override
    public Var forward(Var x) {
        return Ops.unary(UnaryOp.GELU_ERF, x);
    }
}
