package dev.loraid.wan.vae;

import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

/**
 * The per-channel latent normalisation (spec vae-t5.md §1.5): {@code latent = (mu − mean) / std},
 * {@code z = latent · std + mean} before decoding. {@link #WAN21} holds the real 16-channel vectors, {@link #WAN22}
 * the 48-channel ones of the TI2V-5B VAE.
 */
public record LatentStats(double[] mean, double[] std) {
    public static final LatentStats WAN21 = new LatentStats(
        new double[] {-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
            0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921},
        new double[] {2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
            3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160});

    /**
     * Wan 2.2 TI2V-5B (z_dim 48): the spec (vae-t5.md §2) points to vae2_2.py's {@code Wan2_2_VAE.__init__} without
     * listing them; copied from Wan-Video/Wan2.2's vae2_2.py (the same 96 values in two independent copies of the
     * file). Upstream uses them the same way as 2.1's: {@code scale = [mean, 1/std]}.
     */
    public static final LatentStats WAN22 = new LatentStats(
        new double[] {-0.2289, -0.0052, -0.1323, -0.2339, -0.2799, 0.0174, 0.1838, 0.1557,
            -0.1382, 0.0542, 0.2813, 0.0891, 0.1570, -0.0098, 0.0375, -0.1825,
            -0.2246, -0.1207, -0.0698, 0.5109, 0.2665, -0.2108, -0.2158, 0.2502,
            -0.2055, -0.0322, 0.1109, 0.1567, -0.0729, 0.0899, -0.2799, -0.1230,
            -0.0313, -0.1649, 0.0117, 0.0723, -0.2839, -0.2083, -0.0520, 0.3748,
            0.0152, 0.1957, 0.1433, -0.2944, 0.3573, -0.0548, -0.1681, -0.0667},
        new double[] {0.4765, 1.0364, 0.4514, 1.1677, 0.5313, 0.4990, 0.4818, 0.5013,
            0.8158, 1.0344, 0.5894, 1.0901, 0.6885, 0.6165, 0.8454, 0.4978,
            0.5759, 0.3523, 0.7135, 0.6804, 0.5833, 1.4146, 0.8986, 0.5659,
            0.7069, 0.5338, 0.4889, 0.4917, 0.4069, 0.4999, 0.6866, 0.4093,
            0.5709, 0.6065, 0.6415, 0.4944, 0.5726, 1.2042, 0.5458, 1.6887,
            0.3971, 1.0600, 0.3943, 0.5537, 0.5444, 0.4089, 0.7468, 0.7744});

    public LatentStats {
        if (mean.length != std.length) {
            throw new IllegalArgumentException("latent mean has " + mean.length + " channels, std " + std.length);
        }
    }

    /** From two [z] tensors (e.g. {@code latents_mean}, {@code latents_std} of an inputs file). */
    public static LatentStats of(Tensor mean, Tensor std) {
        return new LatentStats(mean.toDoubleArray(), std.toDoubleArray());
    }

    /**
     * The statistics of a VAE with {@code zDim} latent channels: Wan 2.1's 16 or Wan 2.2's 48 values (by zDim) when
     * {@code file} is null, else
     * the {@code latents_mean} and {@code latents_std} tensors of the safetensors {@code file}; checked against zDim
     * ({@code vae} names the VAE in the error).
     */
    public static LatentStats forVae(int zDim, java.nio.file.Path file, String vae) throws java.io.IOException {
        LatentStats stats = builtIn(zDim);
        if (file != null) {
            try (dev.loraid.tensor.safetensors.SafetensorsFile f = dev.loraid.tensor.safetensors.SafetensorsFile.open(file)) {
                if (!f.contains("latents_mean") || !f.contains("latents_std")) {
                    throw new IllegalArgumentException(file + ": expected tensors latents_mean and latents_std, found " + f.names());
                }
                stats = of(f.tensor("latents_mean").copy(), f.tensor("latents_std").copy());
            }
        }
        if (stats.channels() != zDim) {
            throw new IllegalArgumentException("the VAE " + vae + " has " + zDim + " latent channels but the latent statistics have "
                    + stats.channels() + (file == null ? " (Wan 2.1's): give the VAE's latents_mean and latents_std in a file"
                    : " (" + file + ")"));
        }
        return stats;
    }

    /** The built-in statistics for a VAE with {@code zDim} latent channels: Wan 2.2's for 48, else Wan 2.1's. */
    public static LatentStats builtIn(int zDim) {
        return zDim == WAN22.channels() ? WAN22 : WAN21;
    }

    public int channels() {
        return mean.length;
    }

    /** mu [z, F, H, W] → (mu − mean) / std, fp32, on mu's device. */
    public Tensor normalize(Tensor mu) {
        check(mu);
        Tensor out = Tensor.empty(mu.device(), DType.F32, mu.shape().toArray());
        mu.backend().binary(BinaryOp.SUB, mu, column(mean, mu), out);
        mu.backend().binary(BinaryOp.DIV, out, column(std, mu), out);
        return out;
    }

    /** latent [z, F, H, W] → latent · std + mean, fp32, on latent's device (upstream: {@code z / (1/std) + mean}). */
    public Tensor denormalize(Tensor latent) {
        check(latent);
        Tensor out = Tensor.empty(latent.device(), DType.F32, latent.shape().toArray());
        latent.backend().binary(BinaryOp.MUL, latent, column(std, latent), out);
        latent.backend().binary(BinaryOp.ADD, out, column(mean, latent), out);
        return out;
    }

    private void check(Tensor t) {
        if (t.rank() != 4 || t.size(0) != mean.length) {
            throw new IllegalArgumentException("latent " + t.shape() + ": expected [" + mean.length + ", F, H, W] to match "
                + "the " + mean.length + "-channel mean/std");
        }
    }

    /** v as an fp32 [z, 1, 1, 1] column on {@code like}'s device. */
    private static Tensor column(double[] v, Tensor like) {
        return VaeOps.onto(Tensor.ofDoubles(v, v.length, 1, 1, 1).to(DType.F32), like.device());
    }
}
