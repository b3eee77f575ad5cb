package dev.loraid.wan.vae;

import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.Tensor;

import java.util.List;

/**
 * One Wan 2.2 level (spec vae-t5.md §2): {@code Down_ResidualBlock} in the encoder
 * ({@code encoder.downsamples.<i>.downsamples.<n>}: residual blocks, then a downsample resample except in the last
 * level, plus the {@link AvgDown3d} shortcut) or {@code Up_ResidualBlock} in the decoder
 * ({@code decoder.upsamples.<i>.upsamples.<n>}: residual blocks, then an upsample resample except in the last level,
 * plus a {@link DupUp3d} shortcut where there is a resample). Output = main path + shortcut(level input). The
 * shortcut factors follow from the resample: factor_s 2 when there is one, factor_t 2 when it is temporal.
 *
 * <p>Memory: the shortcut is computed first into an owned tensor (smaller than the input in the encoder), then the
 * inner layers run as separate {@link VaeOps#step}s, each freeing its input as in the 2.1 levels.
 */
record VaeLevel(String name, List<VaeLayer> layers, AvgDown3d down, DupUp3d up) implements VaeLayer {

    static VaeLevel load(VaeWeights w, String p, boolean decoder) {
        List<VaeLayer> layers = WanVae.list(w, p + (decoder ? ".upsamples" : ".downsamples"), decoder);
        VaeResidualBlock first = layers.get(0) instanceof VaeResidualBlock r ? r : null;
        VaeResidualBlock last = null;
        VaeResample resample = null;
        for (VaeLayer l : layers) {
            if (l instanceof VaeResidualBlock r) {
                last = r;
            } else {
                resample = (VaeResample) l;
            }
        }
        if (first == null || last == null || (resample != null && layers.get(layers.size() - 1) != resample)) {
            throw new IllegalArgumentException(w.where() + ": " + p + " is not a Wan 2.2 level (residual blocks, then "
                + "at most one resample at the end)");
        }
        int ft = resample != null && resample.temporal() ? 2 : 1;
        long in = first.inChannels();
        long out = last.outChannels();
        if (decoder) {
            return new VaeLevel(p, layers, null, resample == null ? null : new DupUp3d(in, out, ft, 2));
        }
        return new VaeLevel(p, layers, new AvgDown3d(in, out, ft, resample == null ? 1 : 2), null);
    }

    @Override
    public Tensor forward(Tensor x, FeatureCache cache) {
        Tensor shortcut = null;
        if (down != null) {
            shortcut = down.apply(x);
        } else if (up != null) {
            // the first chunk (and the whole clip, which is one first chunk) drops ft − 1 leading frames
            boolean first = cache.whole() || cache.get(this) == null;
            if (!cache.whole()) {
                cache.put(this, FeatureCache.REP);
            }
            shortcut = up.apply(x, first);
        }
        Tensor h = x;
        for (VaeLayer l : layers) {
            h = VaeOps.step(l.name(), h, v -> l.forward(v, cache)); // the first step frees the level input
        }
        if (shortcut != null) {
            h.backend().binary(BinaryOp.ADD, h, shortcut, h);
            VaeOps.free(shortcut);
        }
        return h;
    }
}
