package dev.loraid.core.cache;

import dev.loraid.core.data.Size;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanVariant;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The image-to-video conditioning y of Wan 2.1 I2V and 2.2 i2v-A14B (wan.md §2 "I2V conditioning tensor y", training.md
 * §4.5 and §6.2): a clip of the start image followed by zero frames (0 is mid-grey in the VAE's [−1, 1] range),
 * VAE-encoded, behind 4 mask channels that are 1 on latent frame 0 and 0 after it. The latent cache stores it as
 * {@code latents_image}; generation builds it from {@code --image_path} as musubi's {@code prepare_i2v_inputs} does.
 */
public final class ImageConditioning {
    private ImageConditioning() {
    }

    /**
     * The video size generation uses for a start image of {@code imageWidth × imageHeight} when {@code width × height}
     * was asked (musubi): the image's aspect ratio at the asked area, each side rounded down to a whole number of
     * (VAE stride × patch) cells, {@code lat_h = ⌊⌊√(area · ih/iw) / stride⌋ / patch⌋ · patch}.
     *
     * @return {height, width} in pixels
     */
    public static int[] videoSize(int imageWidth, int imageHeight, int width, int height, WanVariant task) {
        double area = (double) width * height;
        double aspect = (double) imageHeight / imageWidth;
        int[] stride = task.vaeStride();
        int patchH = task.config().patchH();
        int patchW = task.config().patchW();
        long latH = (long) Math.floor(Math.floor(Math.sqrt(area * aspect) / stride[1]) / patchH) * patchH;
        long latW = (long) Math.floor(Math.floor(Math.sqrt(area / aspect) / stride[2]) / patchW) * patchW;
        if (latH < patchH || latW < patchW) {
            throw new IllegalArgumentException("a " + imageWidth + "×" + imageHeight + " start image at " + width + "×" + height
                + " pixels leaves no whole latent cell on one side");
        }
        return new int[] {Math.toIntExact(latH * stride[1]), Math.toIntExact(latW * stride[2])};
    }

    /** A start image made ready for generation: its y, its CLIP tokens (Wan 2.1 I2V, else null), and the video size it gave. */
    public record StartImage(Tensor y, Tensor clip, int height, int width) {
    }

    /**
     * The start image in {@code file} for a video of {@code frames} asked at {@code width × height}: the size
     * {@link #videoSize} gives, y as {@link #of} builds it, and with {@code clip} non-null the CLIP tokens of the whole
     * image at its own size (upstream feeds CLIP the image as read, not the resized one; CLIP resizes to 224 itself).
     * With {@code endFile} (first-last-frame, FLF2V) the end image closes the conditioning clip and its tokens follow the
     * start image's ([514, 1280]).
     *
     * @throws IllegalArgumentException when the image leaves no whole latent cell on a side at that area
     */
    public static StartImage read(Path file, Path endFile, int width, int height, int frames, WanVariant task,
            LatentEncoder encoder, ClipEncoder clip) {
        RgbImage image = Images.read(file);
        RgbImage end = endFile == null ? null : Images.read(endFile);
        StartImage sized = sizeAndTokens(image, end, width, height, task, clip);
        return new StartImage(of(image, end, sized.width(), sized.height(), frames, encoder), sized.clip(), sized.height(),
            sized.width());
    }

    /**
     * What {@link #read(Path, Path, int, int, int, WanVariant, LatentEncoder, ClipEncoder)} gives but y (null): the video
     * size and the CLIP tokens; one-frame inference builds its own y.
     */
    public static StartImage sizeAndTokens(Path file, Path endFile, int width, int height, WanVariant task, ClipEncoder clip) {
        return sizeAndTokens(Images.read(file), endFile == null ? null : Images.read(endFile), width, height, task, clip);
    }

    private static StartImage sizeAndTokens(RgbImage image, RgbImage end, int width, int height, WanVariant task,
            ClipEncoder clip) {
        int[] hw = videoSize(image.width(), image.height(), width, height, task);
        return new StartImage(null, clip == null ? null : tokens(image, end, clip), hw[0], hw[1]);
    }

    /**
     * The start image of a training sample (upstream's {@code do_inference}, training.md §6.2): the sample keeps the
     * prompt's {@code width × height}, the image is resized to it as a bucket (cover, centre crop) and becomes y as
     * {@link #of} builds it; the CLIP tokens are of the whole image as read, as upstream's sample prompts encode it.
     */
    public static StartImage forSample(Path file, Path endFile, int width, int height, int frames, LatentEncoder encoder,
            ClipEncoder clip) {
        RgbImage image = Images.read(file);
        RgbImage end = endFile == null ? null : Images.read(endFile);
        Tensor tokens = clip == null ? null : tokens(image, end, clip);
        RgbImage sized = Resize.toBucket(image, new Size(width, height));
        return new StartImage(of(sized, end, width, height, frames, encoder), tokens, height, width);
    }

    /** The CLIP tokens of the image in {@code file}, then of {@code endFile}'s when given; null without a CLIP. */
    public static Tensor tokens(Path file, Path endFile, ClipEncoder clip) {
        return clip == null ? null : tokens(Images.read(file), endFile == null ? null : Images.read(endFile), clip);
    }

    /** The tokens of {@code image}, then {@code end}'s when it is given (FLF2V: [514, 1280]). */
    static Tensor tokens(RgbImage image, RgbImage end, ClipEncoder clip) {
        Tensor first = tokens(image, clip);
        return end == null ? first : rows(first, tokens(end, clip));
    }

    /** {@link #read(Path, Path, int, int, int, WanVariant, LatentEncoder, ClipEncoder)} without an end image. */
    public static StartImage read(Path file, int width, int height, int frames, WanVariant task, LatentEncoder encoder,
            ClipEncoder clip) {
        return read(file, null, width, height, frames, task, encoder, clip);
    }

    /** {@code a} [n, d] above {@code b} [m, d] (host F32). */
    private static Tensor rows(Tensor a, Tensor b) {
        float[] top = a.toFloatArray();
        float[] bottom = b.toFloatArray();
        float[] both = Arrays.copyOf(top, top.length + bottom.length);
        System.arraycopy(bottom, 0, both, top.length, bottom.length);
        try (MemoryScope outside = MemoryScope.suspend()) {
            return Tensor.of(both, a.size(0) + b.size(0), a.size(1));
        }
    }

    /** The CLIP tokens of {@code image} at its own size, F32 on the host. */
    private static Tensor tokens(RgbImage image, ClipEncoder clip) {
        Tensor pixels = LatentCacher.pixels(List.of(image));
        try (MemoryScope outside = MemoryScope.suspend()) {
            return clip.encode(pixels.reshape(3, image.height(), image.width())).to(DType.F32).to(Device.CPU);
        }
    }

    /**
     * y for generation: {@code image} resized to {@code width × height} (OpenCV's INTER_AREA when it shrinks both ways,
     * as upstream; else Pillow's Lanczos, where upstream uses OpenCV's INTER_CUBIC), scaled to [−1, 1], followed by
     * {@code frames − 1} zero frames, encoded by {@code encoder}; F32 on the host. With {@code end} (FLF2V) the last frame
     * is the end image, resized to the video as upstream resizes it to a bucket (cover, then centre crop), and the mask
     * also marks the last latent frame (wan.md §2).
     */
    public static Tensor of(RgbImage image, RgbImage end, int width, int height, int frames, LatentEncoder encoder) {
        if (end != null && frames < 2) {
            throw new IllegalArgumentException("an end image needs a video of more than one frame, got " + frames);
        }
        RgbImage sized = image.width() == width && image.height() == height ? image
            : width <= image.width() && height <= image.height() ? Resize.area(image, width, height)
            : Resize.lanczos(image, width, height);
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor last = end == null ? null : LatentCacher.pixels(List.of(Resize.toBucket(end, new Size(width, height))));
            Tensor latent = encoder.encode(clip(LatentCacher.pixels(List.of(sized)), last, frames));
            try (MemoryScope outside = MemoryScope.suspend()) {
                float[] y = withMask(latent.to(DType.F32).to(Device.CPU).toFloatArray(), latent.size(0), latent.size(1),
                    latent.size(2), latent.size(3), end != null);
                return Tensor.of(y, 4 + latent.size(0), latent.size(1), latent.size(2), latent.size(3));
            }
        }
    }

    /** {@link #of(RgbImage, RgbImage, int, int, int, LatentEncoder)} without an end image. */
    public static Tensor of(RgbImage image, int width, int height, int frames, LatentEncoder encoder) {
        return of(image, null, width, height, frames, encoder);
    }

    /**
     * The conditioning clip (§4.5): {@code firstFrame} [3, 1, H, W] followed by {@code frames − 1} zero frames (0 is
     * mid-grey in the VAE's [−1, 1] range), as upstream's {@code --i2v} caching and its generation encode it.
     */
    static Tensor clip(Tensor firstFrame, long frames) {
        return clip(firstFrame, null, frames);
    }

    /** {@link #clip(Tensor, long)} whose last frame is {@code lastFrame} [3, 1, H, W] when it is not null (FLF2V). */
    static Tensor clip(Tensor firstFrame, Tensor lastFrame, long frames) {
        long h = firstFrame.size(2);
        long w = firstFrame.size(3);
        float[] v = firstFrame.contiguous().toFloatArray();
        float[] end = lastFrame == null ? null : lastFrame.contiguous().toFloatArray();
        float[] out = new float[(int) (3 * frames * h * w)];
        for (int c = 0; c < 3; c++) {
            System.arraycopy(v, (int) (c * h * w), out, (int) (c * frames * h * w), (int) (h * w));
            if (end != null) {
                System.arraycopy(end, (int) (c * h * w), out, (int) ((c * frames + frames - 1) * h * w), (int) (h * w));
            }
        }
        return Tensor.of(out, 3, frames, h, w);
    }

    /**
     * y from the conditioning clip's latent [channels, f, h, w]: 4 mask channels, 1 on latent frame 0 and 0 after it,
     * followed by the latent's channels.
     */
    static float[] withMask(float[] latent, long channels, long f, long h, long w) {
        return withMask(latent, channels, f, h, w, false);
    }

    /** {@link #withMask(float[], long, long, long, long)}; with {@code lastFrame} (FLF2V) mask channel 3 is 1 on the last latent frame too. */
    static float[] withMask(float[] latent, long channels, long f, long h, long w, boolean lastFrame) {
        long plane = f * h * w;
        float[] out = new float[(int) ((4 + channels) * plane)];
        for (int m = 0; m < 4; m++) {
            Arrays.fill(out, (int) (m * plane), (int) (m * plane + h * w), 1f);
        }
        if (lastFrame) {
            Arrays.fill(out, (int) (3 * plane + (f - 1) * h * w), (int) (4 * plane), 1f);
        }
        System.arraycopy(latent, 0, out, (int) (4 * plane), (int) (channels * plane));
        return out;
    }
}
