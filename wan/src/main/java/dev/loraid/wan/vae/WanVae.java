package dev.loraid.wan.vae;

import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The Wan VAE, 2.1 (spec vae-t5.md §1) or 2.2 TI2V-5B (§2; which one is read off the weights: {@link VaeConfig}),
 * inference only, on the device its weights were placed on ({@link VaeCheckpoint#model(Device)}). Video is
 * batch-free [C, T, H, W]. Both directions run chunk by chunk with the feature cache (§1.4 — this is the model's
 * definition, not an optimisation): encode takes frame 0, then 4 frames at a time; decode one latent frame at a
 * time. Each layer's small temporaries live in a {@link MemoryScope} of their own; its big ones (a conv's input with
 * the cached frames in front, a conv's output) are owned buffers freed as soon as they are read, and the activation
 * passed between layers is freed as soon as the next layer has read it ({@link VaeOps#step}). Peak memory is thus
 * one layer's input, one conv input and one conv output on one chunk, plus the cache (2 frames per cached conv, freed
 * when replaced) and the result; {@link VaeMemory} counts it. The 2.2 VAE adds a 2×2 patchify of each chunk
 * before the encoder and its inverse after the decoder, and levels with parameter-free shortcuts ({@link VaeLevel}).
 *
 * <pre>{@code
 * try (VaeCheckpoint ck = VaeCheckpoint.open(Path.of("Wan2.1_VAE.pth"))) {
 *     WanVae vae = ck.model();
 *     WanVae.Encoded e = vae.encode(video);                     // video [3, 1+4k, H, W] in [-1, 1]
 *     Tensor latent = LatentStats.WAN21.normalize(e.mu());      // [16, 1+k, H/8, W/8]
 *     Tensor pixels = vae.decode(LatentStats.WAN21.denormalize(latent), null);  // raw, clamp for display
 * }
 * }</pre>
 */
public final class WanVae {
    private final VaeConfig config;
    private final Device device;
    private final CausalConv3d encConv1;
    private final List<VaeLayer> encDown;
    private final List<VaeLayer> encMiddle;
    private final Tensor encHeadGamma;
    private final CausalConv3d encHead;
    private final CausalConv3d conv1;
    private final CausalConv3d conv2;
    private final CausalConv3d decConv1;
    private final List<VaeLayer> decMiddle;
    private final List<VaeLayer> decUp;
    private final Tensor decHeadGamma;
    private final CausalConv3d decHead;

    /** mu and log-variance [z, F, H/8, W/8], fp32, before normalisation. */
    public record Encoded(Tensor mu, Tensor logVar) {
    }

    WanVae(VaeWeights w) {
        device = w.device();
        boolean wan22 = w.hasModule("encoder.downsamples.0.downsamples");
        encConv1 = w.conv("encoder.conv1", 1);
        encDown = wan22 ? levels(w, "encoder.downsamples", false) : list(w, "encoder.downsamples", false);
        encMiddle = middle(w, "encoder.middle");
        encHeadGamma = w.gamma("encoder.head.0.gamma");
        encHead = w.conv("encoder.head.2", 1);
        conv1 = w.conv("conv1", 0);
        conv2 = w.conv("conv2", 0);
        decConv1 = w.conv("decoder.conv1", 1);
        decMiddle = middle(w, "decoder.middle");
        decUp = wan22 ? levels(w, "decoder.upsamples", true) : list(w, "decoder.upsamples", true);
        decHeadGamma = w.gamma("decoder.head.0.gamma");
        decHead = w.conv("decoder.head.2", 1);
        config = inferConfig(w.where(), wan22);
    }

    /** Wan 2.2's {@code <prefix>.<i>} levels, each with its inner list and shortcut. */
    private static List<VaeLayer> levels(VaeWeights w, String prefix, boolean up) {
        List<VaeLayer> out = new ArrayList<>();
        for (int i = 0; w.hasModule(prefix + "." + i); i++) {
            out.add(VaeLevel.load(w, prefix + "." + i, up));
        }
        return out;
    }

    /** The residual blocks and resamples numbered {@code <prefix>.0, .1, …}. */
    static List<VaeLayer> list(VaeWeights w, String prefix, boolean up) {
        List<VaeLayer> out = new ArrayList<>();
        for (int i = 0; w.hasModule(prefix + "." + i); i++) {
            String p = prefix + "." + i;
            if (w.has(p + ".residual.0.gamma")) {
                out.add(VaeResidualBlock.load(w, p));
            } else if (w.has(p + ".resample.1.weight")) {
                out.add(VaeResample.load(w, p, up));
            } else {
                throw new IllegalArgumentException(w.where() + ": " + p + " is neither a residual block (" + p
                    + ".residual.0.gamma) nor a resample (" + p + ".resample.1.weight)");
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException(w.where() + ": no " + prefix + ".0.* weights");
        }
        return out;
    }

    private static List<VaeLayer> middle(VaeWeights w, String p) {
        return List.of(VaeResidualBlock.load(w, p + ".0"), VaeAttentionBlock.load(w, p + ".1"),
            VaeResidualBlock.load(w, p + ".2"));
    }

    /** dim, z_dim, multipliers, blocks per level and temporal flags, read off the encoder's layer list. */
    private VaeConfig inferConfig(String where, boolean wan22) {
        int dim = (int) encConv1.outChannels();
        List<Integer> mult = new ArrayList<>();
        List<Boolean> temporal = new ArrayList<>();
        int blocks = 0;
        int firstLevelBlocks = -1;
        long levelOut = dim;
        for (VaeLayer l : encDown.stream().flatMap(l -> l.layers().stream()).toList()) {
            if (l instanceof VaeResidualBlock r) {
                blocks++;
                levelOut = r.outChannels();
            } else if (l instanceof VaeResample s) {
                temporal.add(s.temporal());
                mult.add((int) (levelOut / dim));
                firstLevelBlocks = firstLevelBlocks < 0 ? blocks : firstLevelBlocks;
                blocks = 0;
            }
        }
        mult.add((int) (levelOut / dim));
        if (firstLevelBlocks < 0) {
            firstLevelBlocks = blocks;
        }
        int z = (int) conv2.outChannels();
        if (conv1.outChannels() != 2L * z || decConv1.weight.size(1) != z) {
            throw new IllegalArgumentException(where + ": conv1.weight " + VaeWeights.shape(conv1.weight) + ", conv2.weight "
                + VaeWeights.shape(conv2.weight) + ", decoder.conv1.weight " + VaeWeights.shape(decConv1.weight)
                + " disagree on z_dim (conv1 must output 2·z channels)");
        }
        int patch = wan22 ? 2 : 1;
        if (encConv1.weight.size(1) != 3L * patch * patch || decHead.outChannels() != 3L * patch * patch) {
            throw new IllegalArgumentException(where + ": encoder.conv1.weight " + VaeWeights.shape(encConv1.weight)
                + ", decoder.head.2.weight " + VaeWeights.shape(decHead.weight) + ": expected " + 3 * patch * patch
                + " pixel channels (3 colours" + (wan22 ? " × the 2×2 patch of the Wan 2.2 layout)" : ")"));
        }
        int decoderDim = (int) (decConv1.outChannels() / mult.get(mult.size() - 1));
        return new VaeConfig(wan22 ? VaeConfig.Layout.WAN22 : VaeConfig.Layout.WAN21, dim, decoderDim, z,
            List.copyOf(mult), firstLevelBlocks, List.copyOf(temporal));
    }

    public VaeConfig config() {
        return config;
    }

    /** Where the weights live and the layers run; results are left there. */
    public Device device() {
        return device;
    }

    // ---- encode ----

    /** {@link #encode(Tensor, VaeTaps)} without taps. */
    public Encoded encode(Tensor video) {
        return encode(video, null);
    }

    /**
     * video [3, T, H, W] (any float dtype, [-1, 1], any device: each chunk is copied to the model's) → mu, log-var
     * [z, 1 + (T−1)/4, H/s, W/s] on the model's {@link #device} (s = 8 for 2.1, 16 for 2.2:
     * {@link VaeConfig#spatialFactor}). Frames after 1 + 4·((T−1)/4) are ignored, as upstream does; H and W must be
     * multiples of s.
     */
    public Encoded encode(Tensor video, VaeTaps taps) {
        return encode(video, taps, FeatureCache.chunked());
    }

    /** The whole clip as one chunk with the §1.4 whole-sequence rules: the chunked run's reference (tests). */
    Encoded encodeWholeClip(Tensor video, VaeTaps taps) {
        return encode(video, taps, FeatureCache.wholeClip());
    }

    private Encoded encode(Tensor video, VaeTaps taps, FeatureCache cache) {
        checkVideo(video);
        int tf = config.temporalFactor();
        long chunks = 1 + (video.size(1) - 1) / tf;
        long used = 1 + (chunks - 1) * tf;
        Tensor out = null;
        for (long i = 0; i < (cache.whole() ? 1 : chunks); i++) {
            long start = i == 0 ? 0 : 1 + (i - 1) * tf;
            long len = cache.whole() ? used : i == 0 ? 1 : tf;
            Tensor chunk = VaeOps.patchify(VaeOps.onto(video.narrow(1, start, len), device), config.patchSize());
            Tensor h = VaeOps.step("conv1", encoderChunk(chunk, cache, taps), x -> conv1.forward(x, cache));
            try (MemoryScope outside = MemoryScope.suspend()) {
                out = out == null ? VaeOps.keep(h) : VaeOps.catTime(out, h); // h is freed below, never kept
            }
            VaeOps.free(h);
        }
        cache.clear();
        int z = config.zDim();
        return new Encoded(VaeOps.keep(out.narrow(0, 0, z)), VaeOps.keep(out.narrow(0, z, z)));
    }

    /** One chunk through the encoder, layer by layer ({@link VaeOps#step}); the result is owned by the caller. */
    private Tensor encoderChunk(Tensor x, FeatureCache cache, VaeTaps taps) {
        x = VaeOps.step(encConv1.name, x, v -> encConv1.forward(v, cache));
        tap(taps, "enc_conv1_out", x);
        for (int i = 0; i < encDown.size(); i++) {
            VaeLayer l = encDown.get(i);
            x = VaeOps.step(l.name(), x, v -> l.forward(v, cache));
            if (i == 0) {
                tap(taps, "enc_resblock0_out", x);
            }
        }
        for (VaeLayer l : encMiddle) {
            x = VaeOps.step(l.name(), x, v -> l.forward(v, cache));
        }
        tap(taps, "enc_middle_out", x);
        return VaeOps.step("encoder.head", x, v -> encHead.forwardNormed(v, encHeadGamma, cache, false));
    }

    private void checkVideo(Tensor video) {
        long c = 3;
        int s = config.spatialFactor();
        if (video.rank() != 4 || video.size(0) != c || video.size(1) < 1 || video.size(2) % s != 0
            || video.size(3) % s != 0 || video.size(2) == 0 || video.size(3) == 0) {
            throw new IllegalArgumentException("VAE encode: video " + video.shape() + ": expected [" + c
                + ", T ≥ 1, H, W] with H and W positive multiples of " + s);
        }
    }

    // ---- decode ----

    /**
     * z [z_dim, F, h, w] (de-normalised: {@link LatentStats#denormalize}; any device) → pixels [3, 1 + 4(F−1), s·h,
     * s·w] (s as in {@link #encode}), fp32 on the model's {@link #device}, not clamped (clamp to [-1, 1] for display,
     * as upstream does after decoding).
     */
    public Tensor decode(Tensor z, VaeTaps taps) {
        return decode(z, taps, FeatureCache.chunked());
    }

    Tensor decodeWholeClip(Tensor z, VaeTaps taps) {
        return decode(z, taps, FeatureCache.wholeClip());
    }

    private Tensor decode(Tensor z, VaeTaps taps, FeatureCache cache) {
        if (z.rank() != 4 || z.size(0) != config.zDim() || z.size(1) < 1) {
            throw new IllegalArgumentException("VAE decode: latent " + z.shape() + ": expected [" + config.zDim()
                + ", F ≥ 1, h, w]");
        }
        z = VaeOps.onto(z, device);
        long frames = z.size(1);
        int s = config.spatialFactor();
        Tensor out;
        try (MemoryScope outside = MemoryScope.suspend()) {
            out = VaeOps.empty(device, 3, 1 + config.temporalFactor() * (frames - 1),
                s * z.size(2), s * z.size(3));
        }
        long at = 0;
        for (long i = 0; i < (cache.whole() ? 1 : frames); i++) {
            Tensor x = cache.whole() ? z : z.narrow(1, i, 1);
            Tensor y = decoderChunk(VaeOps.step("conv2", x, v -> conv2.forward(v, cache)), cache, taps);
            VaeOps.unpatchifyInto(y, config.patchSize(), out.narrow(1, at, y.size(1)));
            at += y.size(1);
            VaeOps.free(y);
        }
        cache.clear();
        if (at != out.size(1)) {
            throw new IllegalStateException("VAE decode produced " + at + " frames, expected " + out.size(1));
        }
        return out;
    }

    private Tensor decoderChunk(Tensor x, FeatureCache cache, VaeTaps taps) {
        x = VaeOps.step(decConv1.name, x, v -> decConv1.forward(v, cache));
        tap(taps, "dec_conv1_out", x);
        for (VaeLayer l : decMiddle) {
            x = VaeOps.step(l.name(), x, v -> l.forward(v, cache));
        }
        tap(taps, "dec_middle_out", x);
        for (VaeLayer l : decUp) {
            x = VaeOps.step(l.name(), x, v -> l.forward(v, cache));
        }
        return VaeOps.step("decoder.head", x, v -> decHead.forwardNormed(v, decHeadGamma, cache, false));
    }

    private static void tap(VaeTaps taps, String name, Tensor x) {
        if (taps != null) {
            taps.record(name, x);
        }
    }

    /** {@code clamp(x, -1, 1)} into a new tensor on x's device (upstream's final step of decoding). */
    public static Tensor clamp(Tensor x) {
        Tensor out = Tensor.empty(x.device(), dev.loraid.tensor.DType.F32, x.shape().toArray());
        x.backend().binaryScalar(dev.loraid.tensor.BinaryOp.MAX, x, -1, out);
        x.backend().binaryScalar(dev.loraid.tensor.BinaryOp.MIN, out, 1, out);
        return out;
    }
}
