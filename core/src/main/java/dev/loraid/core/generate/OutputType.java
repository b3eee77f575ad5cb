package dev.loraid.core.generate;

import java.util.Locale;

/**
 * What a generation writes (training.md §6.3, §6.7), upstream's five kinds: {@code video} (an H.264 MP4 of the frames,
 * upstream's default), {@code images} (a PNG per frame), {@code latent} (the latent file), {@code both} (latent and
 * video) and {@code latent_images} (latent and PNGs). Frames are the VAE's decode, or the latent projection
 * {@link LatentPreview} without a VAE.
 */
public enum OutputType {
    VIDEO, IMAGES, LATENT, BOTH, LATENT_IMAGES;

    public static OutputType parse(String name) {
        return switch (name.strip().toLowerCase(Locale.ROOT)) {
            case "video" -> VIDEO;
            case "images" -> IMAGES;
            case "latent" -> LATENT;
            case "both" -> BOTH;
            case "latent_images" -> LATENT_IMAGES;
            default -> throw new IllegalArgumentException("output type '" + name + "' is not supported (supported: video, "
                    + "images, latent, both, latent_images)");
        };
    }

    public boolean latent() {
        return this == LATENT || this == BOTH || this == LATENT_IMAGES;
    }

    public boolean images() {
        return this == IMAGES || this == LATENT_IMAGES;
    }

    public boolean video() {
        return this == VIDEO || this == BOTH;
    }

    /** Whether frames are drawn at all (a VAE decode is needed). */
    public boolean frames() {
        return images() || video();
    }

    public String flagValue() {
        return name().toLowerCase(Locale.ROOT);
    }
}
