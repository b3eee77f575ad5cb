package dev.loraid.core.generate;

import java.util.Locale;

/**
 * What a generation writes (training.md §6.7): the latent file, one PNG per frame (VAE-decoded, or the latent projection
 * {@link LatentPreview} without a VAE), or both. Upstream's {@code video} (an MP4 file) and {@code latent_images} are
 * not offered yet.
 */
public enum OutputType {
    LATENT, IMAGES, BOTH;

    public static OutputType parse(String name) {
        return switch (name.strip().toLowerCase(Locale.ROOT)) {
            case "latent" -> LATENT;
            case "images" -> IMAGES;
            case "both" -> BOTH;
            default -> throw new IllegalArgumentException("output type '" + name + "' is not supported (supported: latent, "
                    + "images, both; video files are not written yet: images gives one PNG per frame)");
        };
    }

    public boolean latent() {
        return this != IMAGES;
    }

    public boolean images() {
        return this != LATENT;
    }
}
