package dev.loraid.core.generate;

import dev.loraid.core.LoraidException;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.vae.LatentStats;
import dev.loraid.wan.vae.VaeCheckpoint;
import dev.loraid.wan.vae.WanVae;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Frames decoded by the Java Wan 2.1 VAE (spec vae-t5.md §1.4–1.5, training.md §6.2): the latent is de-normalised
 * with the latent statistics, decoded one latent frame per chunk, clamped to [-1, 1] and mapped to 8-bit RGB as
 * {@code round((x + 1) · 127.5)}.
 */
public final class VaeFrames implements FrameRenderer, AutoCloseable {
    private final VaeCheckpoint checkpoint;
    private final WanVae vae;
    private final LatentStats stats;
    private final String source;

    private VaeFrames(VaeCheckpoint checkpoint, WanVae vae, LatentStats stats, String source) {
        this.checkpoint = checkpoint;
        this.vae = vae;
        this.stats = stats;
        this.source = source;
    }

    /**
     * @param statsFile latents_mean / latents_std for a VAE whose latent width is not 16, or null for Wan 2.1's
     * @param device    where the decoder runs (its weights are copied there once); the frames come back to the host
     */
    public static VaeFrames open(Path vaeFile, Path statsFile, Device device) {
        VaeCheckpoint ck;
        try {
            ck = VaeCheckpoint.open(vaeFile);
        } catch (IOException e) {
            throw new LoraidException("cannot open the VAE " + vaeFile + ": " + e.getMessage(), e);
        }
        try {
            LatentStats stats = LatentStats.forVae(ck.config().zDim(), statsFile, vaeFile.toString());
            return new VaeFrames(ck, ck.model(device), stats, vaeFile.getFileName().toString());
        } catch (IOException | RuntimeException e) {
            ck.close();
            throw new LoraidException(e.getMessage(), e);
        }
    }

    @Override
    public List<BufferedImage> render(Tensor latent) {
        if (latent.size(0) != stats.channels()) {
            throw new LoraidException("the latent has " + latent.size(0) + " channels but the VAE " + source + " decodes "
                    + stats.channels());
        }
        Tensor pixels = WanVae.clamp(vae.decode(stats.denormalize(latent), null)).to(Device.CPU);
        int frames = (int) pixels.size(1);
        int h = (int) pixels.size(2);
        int w = (int) pixels.size(3);
        float[] v = pixels.toFloatArray();
        List<BufferedImage> out = new ArrayList<>(frames);
        for (int f = 0; f < frames; f++) {
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int rgb = 0;
                    for (int c = 0; c < 3; c++) {
                        float p = v[((c * frames + f) * h + y) * w + x];
                        rgb = (rgb << 8) | (int) Math.round((p + 1) * 127.5);
                    }
                    img.setRGB(x, y, rgb);
                }
            }
            out.add(img);
        }
        return out;
    }

    @Override
    public String description() {
        return "decoded by the Wan VAE " + source;
    }

    @Override
    public String metadataKey() {
        return "vae";
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
