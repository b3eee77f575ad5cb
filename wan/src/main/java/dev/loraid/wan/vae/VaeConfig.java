package dev.loraid.wan.vae;

import java.util.List;

/**
 * The Wan VAE hyper-parameters, as read off a checkpoint's shapes: which {@link Layout}, the encoder's base
 * {@code dim} and the decoder's ({@code decoderDim}; the same in 2.1), {@code zDim}, per-level channel multipliers,
 * residual blocks per encoder level, which encoder levels also halve time. {@link #WAN21}: the real 2.1 VAE (spec
 * vae-t5.md §1.3); {@link #WAN22}: the TI2V-5B VAE (§2).
 */
public record VaeConfig(Layout layout, int dim, int decoderDim, int zDim, List<Integer> dimMult, int numResBlocks,
                        List<Boolean> temporalDownsample) {
    /** How the levels are built. */
    public enum Layout {
        /** Wan 2.1 (all 2.1 models and 2.2 A14B): flat level lists, the decoder halves channels at each upsample. */
        WAN21,
        /**
         * Wan 2.2 TI2V-5B (spec §2): 2×2 patchify around the model, levels with parameter-free shortcuts
         * (AvgDown3D / DupUp3D), upsamples that keep their channels.
         */
        WAN22
    }

    public static final VaeConfig WAN21 = wan21(96, 16, List.of(1, 2, 4, 4), 2, List.of(false, true, true));
    public static final VaeConfig WAN22 = new VaeConfig(Layout.WAN22, 160, 256, 48, List.of(1, 2, 4, 4), 2,
        List.of(false, true, true));

    /** A 2.1-layout config (decoder dim = dim). */
    public static VaeConfig wan21(int dim, int zDim, List<Integer> dimMult, int numResBlocks, List<Boolean> temporal) {
        return new VaeConfig(Layout.WAN21, dim, dim, zDim, dimMult, numResBlocks, temporal);
    }

    /** Pixels per side of a patch folded into channels before the encoder (spec §2): 2 for 2.2, else 1. */
    public int patchSize() {
        return layout == Layout.WAN22 ? 2 : 1;
    }

    /** Pixels per latent position in H and W (8 for 2.1, 16 for 2.2). */
    public int spatialFactor() {
        return patchSize() << temporalDownsample.size();
    }

    /** Pixel frames per latent frame after the first. */
    public int temporalFactor() {
        return 1 << (int) temporalDownsample.stream().filter(b -> b).count();
    }

    @Override
    public String toString() {
        return layout + ": dim " + dim + (decoderDim != dim ? ", decoder dim " + decoderDim : "") + ", z_dim " + zDim
            + ", dim_mult " + dimMult + ", num_res_blocks " + numResBlocks + ", temperal_downsample " + temporalDownsample;
    }
}
