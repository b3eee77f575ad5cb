package dev.loraid.core.cache;

import dev.loraid.core.LoraidException;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Reading images the way upstream's Pillow does for caching (spec training.md §4.2): any mode becomes RGB, an alpha
 * channel is dropped (not composited: transparent pixels keep their colour), greyscale is replicated to three
 * channels (from the raw samples, not through Java's linear-grey colour space), a palette is looked up, and 16-bit
 * samples keep their high byte (Pillow reads 16-bit PNGs that way; for 16-bit greyscale Pillow's I;16 → RGB
 * conversion is not verified here). A truncated file is an error, as in Pillow without LOAD_TRUNCATED_IMAGES:
 * ImageIO's "partial image" warnings are raised.
 */
public final class Images {
    /** Upstream's IMAGE_EXTENSIONS (lower case; upper case matches too). */
    public static final List<String> EXTENSIONS = List.of(".png", ".jpg", ".jpeg", ".webp", ".bmp", ".avif");
    /** What this reader decodes (AVIF has no maintained ImageIO plugin). */
    static final Set<String> DECODABLE = Set.of(".png", ".jpg", ".jpeg", ".webp", ".bmp");

    private Images() {
    }

    static String extension(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot < 0 ? "" : n.substring(dot).toLowerCase(Locale.ROOT);
    }

    public static boolean isImage(Path p) {
        return EXTENSIONS.contains(extension(p));
    }

    /** Decodes {@code file} to 8-bit RGB; every failure names the file. */
    public static RgbImage read(Path file) {
        String ext = extension(file);
        if (!DECODABLE.contains(ext)) {
            throw new LoraidException(file + ": cannot read " + (ext.isEmpty() ? "a file without extension" : ext)
                + " images; supported: .png .jpg .jpeg .webp .bmp");
        }
        BufferedImage img;
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw new LoraidException(file + ": cannot open the image" + (Files.exists(file) ? "" : " (no such file)"));
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new LoraidException(file + ": not a readable image (no decoder recognises its content; "
                    + "supported: PNG, JPEG, WebP, BMP)");
            }
            ImageReader reader = readers.next();
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
            try {
                reader.setInput(in, true, true);
                img = reader.read(0);
            } finally {
                reader.dispose();
            }
            if (!warnings.isEmpty()) {
                throw new LoraidException(file + ": damaged or truncated image (" + String.join("; ", warnings) + ")");
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof LoraidException le) {
                throw le;
            }
            throw new LoraidException(file + ": cannot decode the image (" + (e.getMessage() == null
                ? e.getClass().getSimpleName() : e.getMessage()) + "); damaged or truncated?", e);
        }
        if (img.getWidth() < 1 || img.getHeight() < 1) {
            throw new LoraidException(file + ": the image is empty (" + img.getWidth() + "x" + img.getHeight() + ")");
        }
        return toRgb(img);
    }

    /** Pillow's {@code convert("RGB")} with alpha dropped (see the class comment). */
    public static RgbImage toRgb(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        byte[] out = new byte[w * h * 3];
        ColorModel cm = img.getColorModel();
        Raster r = img.getRaster();
        if (cm instanceof IndexColorModel || cm.getColorSpace().getType() != ColorSpace.TYPE_GRAY
            && cm.getColorSpace().getType() != ColorSpace.TYPE_RGB) {
            // palette, or a colour space that needs converting: Java's own conversion to sRGB, alpha ignored
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int argb = img.getRGB(x, y);
                    int o = (y * w + x) * 3;
                    out[o] = (byte) (argb >> 16);
                    out[o + 1] = (byte) (argb >> 8);
                    out[o + 2] = (byte) argb;
                }
            }
            return new RgbImage(w, h, out);
        }
        boolean grey = cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY;
        int bits = cm.getComponentSize(0);
        int[] px = new int[r.getNumBands()];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                r.getPixel(x, y, px);
                int o = (y * w + x) * 3;
                for (int c = 0; c < 3; c++) {
                    out[o + c] = (byte) to8(px[grey ? 0 : c], bits);
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    private static int to8(int v, int bits) {
        if (bits == 8) {
            return v;
        }
        if (bits > 8) {
            return v >> (bits - 8);
        }
        return v * 255 / ((1 << bits) - 1); // 1/2/4-bit: Pillow's '1' and 'L' modes span 0..255
    }
}
