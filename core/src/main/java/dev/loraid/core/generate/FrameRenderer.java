package dev.loraid.core.generate;

import dev.loraid.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Turns a generated latent [C, F, H, W] (host F32) into the pictures a user looks at: the VAE's decoded frames
 * ({@link VaeFrames}), or the fixed latent projection ({@link LatentPreview#renderer}) where no VAE is given. The
 * description goes into each PNG and into the latent file's metadata.
 */
public interface FrameRenderer {
    List<BufferedImage> render(Tensor latent);

    String description();

    /** The latent file's metadata key that records {@link #description()}. */
    default String metadataKey() {
        return "preview_projection";
    }
}
