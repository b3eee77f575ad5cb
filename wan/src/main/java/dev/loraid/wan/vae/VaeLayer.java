package dev.loraid.wan.vae;

import dev.loraid.tensor.Tensor;

/** One entry of the encoder's {@code downsamples} / decoder's {@code upsamples} / {@code middle} lists. */
interface VaeLayer {
    /** x [C, T, H, W] (one chunk) → the layer's output, using and updating {@code cache}. */
    Tensor forward(Tensor x, FeatureCache cache);

    /** Upstream's module path, for messages. */
    String name();

    /** The layers a config is read from: this one, or a 2.2 level's inner layers. */
    default java.util.List<VaeLayer> layers() {
        return java.util.List.of(this);
    }
}
