package dev.loraid.core.cache;

import dev.loraid.core.data.Size;
import java.util.Locale;

/** Upstream's cache file and tensor names (spec training.md §4.5-4.6). */
public final class CacheNames {
    public static final String ARCHITECTURE = "wan";
    public static final String FORMAT_VERSION = "1.0.1";
    public static final String LATENT_SUFFIX = "_" + ARCHITECTURE + ".safetensors";
    public static final String TEXT_SUFFIX = "_" + ARCHITECTURE + "_te.safetensors";

    private CacheNames() {
    }

    /** {@code <stem>_<W:04d>x<H:04d>_wan.safetensors}; for images the original size. */
    public static String imageLatent(String stem, Size size) {
        return String.format(Locale.ROOT, "%s_%04dx%04d%s", stem, size.width(), size.height(), LATENT_SUFFIX);
    }

    /** {@code <stem>_<start:05d>-<len:03d>_<W:04d>x<H:04d>_wan.safetensors}; for videos the bucket size. */
    public static String videoLatent(String stem, int start, int length, Size bucket) {
        return String.format(Locale.ROOT, "%s_%05d-%03d_%04dx%04d%s", stem, start, length, bucket.width(),
            bucket.height(), LATENT_SUFFIX);
    }

    /** {@code <stem>_wan_te.safetensors}, one per image or video (shared by a video's crops). */
    public static String text(String stem) {
        return stem + TEXT_SUFFIX;
    }

    /** {@code latents_{F}x{H}x{W}_{dtype}} for a latent [C, F, H, W]. */
    public static String latentKey(long f, long h, long w, String torchDtype) {
        return "latents_" + f + "x" + h + "x" + w + "_" + torchDtype;
    }

    /** {@code latents_image_{F}x{H}x{W}_{dtype}}: the I2V conditioning (mask and first-frame latent) of a clip. */
    public static String imageLatentKey(long f, long h, long w, String torchDtype) {
        return "latents_image_" + f + "x" + h + "x" + w + "_" + torchDtype;
    }

    /** {@code latents_control_{F}x{H}x{W}_{dtype}}: the latent of a clip's Fun-Control video. */
    public static String controlLatentKey(long f, long h, long w, String torchDtype) {
        return "latents_control_" + f + "x" + h + "x" + w + "_" + torchDtype;
    }

    /** {@code f_indices_int32}: a one-frame cache's RoPE position per latent frame (upstream names the dtype torch's way). */
    public static final String FRAME_INDICES_KEY = "f_indices_int32";

    /** {@code clip_{dtype}}: the first frame's CLIP tokens, named after the latent dtype though stored as F16. */
    public static String clipKey(String torchDtype) {
        return "clip_" + torchDtype;
    }

    /** {@code varlen_t5_{dtype}}. */
    public static String textKey(String torchDtype) {
        return "varlen_t5_" + torchDtype;
    }
}
