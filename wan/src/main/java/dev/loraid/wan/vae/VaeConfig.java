package dev.loraid.wan.vae;

import java.util.List;

/**
 * The Wan 2.1 VAE hyper-parameters (spec vae-t5.md §1.3), as read off a checkpoint's shapes: base {@code dim},
 * {@code zDim}, per-level channel multipliers, residual blocks per encoder level, which encoder levels also halve
 * time. The real VAE: dim 96, z 16, [1, 2, 4, 4], 2, [false, true, true].
 */
public record VaeConfig(int dim, int zDim, List<Integer> dimMult, int numResBlocks, List<Boolean> temporalDownsample) {
    /** Pixels per latent position in H and W. */
    public int spatialFactor() {
        return 1 << temporalDownsample.size();
    }

    /** Pixel frames per latent frame after the first. */
    public int temporalFactor() {
        return 1 << (int) temporalDownsample.stream().filter(b -> b).count();
    }

    @Override
    public String toString() {
        return "dim " + dim + ", z_dim " + zDim + ", dim_mult " + dimMult + ", num_res_blocks " + numResBlocks
            + ", temperal_downsample " + temporalDownsample;
    }
}
