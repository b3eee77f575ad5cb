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

    /**
     * This renderer without the last {@code n} frames of each video (upstream's {@code --trim_tail_frames}: the tail of
     * an end-image video may be corrupted); itself for n = 0.
     */
    default FrameRenderer withoutLast(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("frames to trim must be ≥ 0, got " + n);
        }
        if (n == 0) {
            return this;
        }
        FrameRenderer inner = this;
        return new FrameRenderer() {
            @Override
            public List<BufferedImage> render(Tensor latent) {
                List<BufferedImage> all = inner.render(latent);
                if (n >= all.size()) {
                    throw new IllegalArgumentException("trimming " + n + " tail frames leaves none of the " + all.size()
                            + " decoded frames");
                }
                return all.subList(0, all.size() - n);
            }

            @Override
            public String description() {
                return inner.description();
            }

            @Override
            public String metadataKey() {
                return inner.metadataKey();
            }
        };
    }

    /** The latent file's metadata key that records {@link #description()}. */
    default String metadataKey() {
        return "preview_projection";
    }
}
