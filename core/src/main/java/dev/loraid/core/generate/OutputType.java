package dev.loraid.core.generate;

import java.util.Locale;

/**
 * What a generation writes (training.md §6.7). Without a VAE, images are a fixed projection of the latent
 * ({@link LatentPreview}); upstream's {@code video} and {@code latent_images} are not offered yet.
 */
public enum OutputType {
    LATENT, IMAGES, BOTH;

    public static OutputType parse(String name) {
        return switch (name.strip().toLowerCase(Locale.ROOT)) {
            case "latent" -> LATENT;
            case "images" -> IMAGES;
            case "both" -> BOTH;
            default -> throw new IllegalArgumentException("output type '" + name + "' is not supported (supported: latent, "
                    + "images, both; video needs the VAE decoder, which does not exist yet)");
        };
    }

    public boolean latent() {
        return this != IMAGES;
    }

    public boolean images() {
        return this != LATENT;
    }
}
