package dev.loraid.wan.vae;

import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

/**
 * The per-channel latent normalisation (spec vae-t5.md §1.5): {@code latent = (mu − mean) / std},
 * {@code z = latent · std + mean} before decoding. {@link #WAN21} holds the real 16-channel vectors.
 */
public record LatentStats(double[] mean, double[] std) {
    public static final LatentStats WAN21 = new LatentStats(
        new double[] {-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
            0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921},
        new double[] {2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
            3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.9160});

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
     * The statistics of a VAE with {@code zDim} latent channels: Wan 2.1's 16 values when {@code file} is null, else
     * the {@code latents_mean} and {@code latents_std} tensors of the safetensors {@code file}; checked against zDim
     * ({@code vae} names the VAE in the error).
     */
    public static LatentStats forVae(int zDim, java.nio.file.Path file, String vae) throws java.io.IOException {
        LatentStats stats = WAN21;
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

    public int channels() {
        return mean.length;
    }

    /** mu [z, F, H, W] → (mu − mean) / std, fp32. */
    public Tensor normalize(Tensor mu) {
        check(mu);
        Tensor out = Tensor.empty(DType.F32, mu.shape().toArray());
        VaeOps.CPU.binary(BinaryOp.SUB, mu, column(mean), out);
        VaeOps.CPU.binary(BinaryOp.DIV, out, column(std), out);
        return out;
    }

    /** latent [z, F, H, W] → latent · std + mean, fp32 (upstream: {@code z / (1/std) + mean}). */
    public Tensor denormalize(Tensor latent) {
        check(latent);
        Tensor out = Tensor.empty(DType.F32, latent.shape().toArray());
        VaeOps.CPU.binary(BinaryOp.MUL, latent, column(std), out);
        VaeOps.CPU.binary(BinaryOp.ADD, out, column(mean), out);
        return out;
    }

    private void check(Tensor t) {
        if (t.rank() != 4 || t.size(0) != mean.length) {
            throw new IllegalArgumentException("latent " + t.shape() + ": expected [" + mean.length + ", F, H, W] to match "
                + "the " + mean.length + "-channel mean/std");
        }
    }

    private static Tensor column(double[] v) {
        return Tensor.ofDoubles(v, v.length, 1, 1, 1).to(DType.F32);
    }
}
