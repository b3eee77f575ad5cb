package dev.loraid.core.generate;

import dev.loraid.tensor.Tensor;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;

/**
 * A fixed, documented projection of a latent frame to RGB, standing in for the VAE decoder until it exists: red, green
 * and blue are latent channels 0, 1 and 2 (channel 0 again where the latent has fewer), a value v becomes
 * clamp(round(255·(v + 2)/4), 0, 255) (so −2..2 spans the range), and each latent pixel is repeated over the VAE's
 * spatial stride so the image has the requested size. The projection text is written into each PNG (tEXt "loraid")
 * and into the latent file's metadata.
 */
public final class LatentPreview {
    /** The projection, as recorded in the outputs. */
    public static final String PROJECTION = "rgb = latent channels (0, 1, 2) (channel 0 where fewer), "
            + "value v -> clamp(round(255 * (v + 2) / 4), 0, 255), nearest-neighbour upscale by the VAE stride; not a VAE decode";

    private LatentPreview() {
    }

    /** The projection as a {@link FrameRenderer}: one image per latent frame, enlarged by the VAE's spatial stride. */
    public static FrameRenderer renderer(int[] vaeStride) {
        return new FrameRenderer() {
            @Override
            public java.util.List<BufferedImage> render(Tensor latent) {
                java.util.List<BufferedImage> out = new java.util.ArrayList<>();
                for (int f = 0; f < latent.size(1); f++) {
                    out.add(frame(latent, f, vaeStride[1], vaeStride[2]));
                }
                return out;
            }

            @Override
            public String description() {
                return PROJECTION;
            }
        };
    }

    /** Frame {@code f} of {@code latent} [C, F, H, W] (host F32) as an image of (H·scaleH) × (W·scaleW). */
    public static BufferedImage frame(Tensor latent, int f, int scaleH, int scaleW) {
        int c = (int) latent.size(0);
        int h = (int) latent.size(2);
        int w = (int) latent.size(3);
        BufferedImage img = new BufferedImage(w * scaleW, h * scaleH, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = 0;
                for (int k = 0; k < 3; k++) {
                    double v = latent.getDouble(k < c ? k : 0, f, y, x);
                    rgb = (rgb << 8) | level(v);
                }
                for (int dy = 0; dy < scaleH; dy++) {
                    for (int dx = 0; dx < scaleW; dx++) {
                        img.setRGB(x * scaleW + dx, y * scaleH + dy, rgb);
                    }
                }
            }
        }
        return img;
    }

    static int level(double v) {
        long q = Math.round(255 * (v + 2) / 4);
        return (int) Math.max(0, Math.min(255, q));
    }

    /** Writes {@code img} as PNG with a tEXt chunk {@code keyword}: {@code text}. */
    public static void writePng(BufferedImage img, String keyword, String text, OutputStream out) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("png").next();
        try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
            writer.setOutput(ios);
            IIOMetadata meta = writer.getDefaultImageMetadata(ImageTypeSpecifier.createFromRenderedImage(img), null);
            IIOMetadataNode entry = new IIOMetadataNode("tEXtEntry");
            entry.setAttribute("keyword", keyword);
            entry.setAttribute("value", text);
            IIOMetadataNode textNode = new IIOMetadataNode("tEXt");
            textNode.appendChild(entry);
            IIOMetadataNode root = new IIOMetadataNode("javax_imageio_png_1.0");
            root.appendChild(textNode);
            meta.mergeTree("javax_imageio_png_1.0", root);
            writer.write(new IIOImage(img, null, meta));
        } finally {
            writer.dispose();
        }
    }
}
