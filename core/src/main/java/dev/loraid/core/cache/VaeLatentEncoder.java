package dev.loraid.core.cache;

import dev.loraid.core.LoraidException;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.vae.LatentStats;
import dev.loraid.wan.vae.VaeCheckpoint;
import dev.loraid.wan.vae.WanVae;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The Java Wan VAE as the latent side of caching (spec vae-t5.md §1.5, training.md §4.5): the encoder's mean,
 * normalised per channel with the latent statistics — Wan 2.1's 16 mean/std values, or those of a file for a VAE
 * of another latent width (e.g. the tiny test VAE).
 */
public final class VaeLatentEncoder implements LatentEncoder, AutoCloseable {
    private final VaeCheckpoint checkpoint;
    private final WanVae vae;
    private final LatentStats stats;
    private final DType dtype;

    private VaeLatentEncoder(VaeCheckpoint checkpoint, WanVae vae, LatentStats stats, DType dtype) {
        this.checkpoint = checkpoint;
        this.vae = vae;
        this.stats = stats;
        this.dtype = dtype;
    }

    /**
     * @param vaeFile   the VAE weights (.safetensors or the official .pth)
     * @param statsFile a safetensors file with {@code latents_mean} and {@code latents_std} [z], or null for Wan 2.1's
     * @param device    where the VAE runs (its weights are copied there once); latents are left there
     */
    public static VaeLatentEncoder open(Path vaeFile, Path statsFile, DType dtype, Device device) {
        VaeCheckpoint ck;
        try {
            ck = VaeCheckpoint.open(vaeFile);
        } catch (IOException e) {
            throw new LoraidException("cannot open the VAE " + vaeFile + ": " + e.getMessage(), e);
        }
        try {
            return new VaeLatentEncoder(ck, ck.model(device), LatentStats.forVae(ck.config().zDim(), statsFile, vaeFile.toString()), dtype);
        } catch (IOException | RuntimeException e) {
            ck.close();
            throw new LoraidException(e.getMessage(), e);
        }
    }

    @Override
    public Tensor encode(Tensor video) {
        return stats.normalize(vae.encode(video).mu());
    }

    @Override
    public int spatialFactor() {
        return vae.config().spatialFactor();
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
