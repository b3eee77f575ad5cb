package dev.loraid.wan.vae;

import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.Tensor;

/**
 * ResidualBlock(in, out) (spec vae-t5.md §1.2): RMS_norm → SiLU → CausalConv3d 3×3×3 (in→out) → RMS_norm → SiLU
 * → CausalConv3d 3×3×3 (out→out), plus the shortcut (a kernel-1 conv when in ≠ out, else identity).
 */
record VaeResidualBlock(String name, Tensor gamma0, CausalConv3d conv0, Tensor gamma1, CausalConv3d conv1,
                        CausalConv3d shortcut) implements VaeLayer {

    static VaeResidualBlock load(VaeWeights w, String p) {
        CausalConv3d shortcut = w.has(p + ".shortcut.weight") ? w.conv(p + ".shortcut", 0) : null;
        return new VaeResidualBlock(p, w.gamma(p + ".residual.0.gamma"), w.conv(p + ".residual.2", 1),
            w.gamma(p + ".residual.3.gamma"), w.conv(p + ".residual.6", 1), shortcut);
    }

    long inChannels() {
        return conv0.weight.size(1);
    }

    long outChannels() {
        return conv1.outChannels();
    }

    @Override
    public Tensor forward(Tensor x, FeatureCache cache) {
        Tensor h = shortcut == null ? x : shortcut.forward(x, cache);
        // owned intermediates, each freed as soon as read: at most x, one conv input (with its cached frames) and
        // one conv output live at once, not every temporary of the block until the layer's scope closes
        Tensor r = conv0.forwardNormed(x, gamma0, cache, false);
        Tensor y = conv1.forwardNormed(r, gamma1, cache, true);
        y.backend().binary(BinaryOp.ADD, y, h, y);
        return y;
    }
}
