package dev.loraid.core.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanPresets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link ImageConditioning}: the video size against values worked out by hand from musubi's formula, and y's layout
 * through a VAE stand-in whose latent is each 8×8 block's mean (frame 0 alone, then frames 4t−3 … 4t): the mask is 1 on
 * latent frame 0 only, the latent channels hold the start image's block means scaled to [−1, 1], the zero frames 0.
 */
class ImageConditioningTest {
    @Test
    void theVideoSizeFollowsTheImagesAspectRatioAtTheAskedArea() {
        // 832×480 asked: area 399,360. A 2:1 image: √(399360 / 2) = 446.9 → 55 cells of 8 → 27 pairs → 432 pixels high;
        // √(399360 · 2) = 893.7 → 111 → 55 pairs → 880 wide
        assertArrayEquals(new int[] {432, 880}, ImageConditioning.videoSize(1000, 500, 832, 480, WanPresets.get("i2v-A14B")));
        // a square image: √399360 = 631.9 → 78 cells → 39 pairs → 624 × 624
        assertArrayEquals(new int[] {624, 624}, ImageConditioning.videoSize(600, 600, 832, 480, WanPresets.get("i2v-A14B")));
        assertThrows(IllegalArgumentException.class,
            () -> ImageConditioning.videoSize(10_000, 1, 32, 32, WanPresets.get("tiny-i2v")));
    }

    @Test
    void yIsTheMaskThenTheLatentOfTheImageFollowedByZeroFrames() {
        int w = 16;
        int h = 16;
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (byte) (i * 37 % 256);
        }
        RgbImage image = new RgbImage(w, h, rgb);
        Tensor y = ImageConditioning.of(image, w, h, 5, new FakeEncoders.BlockMeanVae());
        assertEquals(List.of(8L, 2L, 2L, 2L), List.of(y.size(0), y.size(1), y.size(2), y.size(3)));
        for (int c = 0; c < 4; c++) {
            for (int by = 0; by < 2; by++) {
                for (int bx = 0; bx < 2; bx++) {
                    assertEquals(1.0, y.getDouble(c, 0, by, bx), "mask channel " + c + ", latent frame 0");
                    assertEquals(0.0, y.getDouble(c, 1, by, bx), "mask channel " + c + ", latent frame 1");
                    double sum = 0;
                    for (int dy = 0; dy < 8; dy++) {
                        for (int dx = 0; dx < 8; dx++) {
                            sum += image.get(8 * bx + dx, 8 * by + dy, c % 3) / 127.5 - 1;
                        }
                    }
                    assertEquals(sum / 64, y.getDouble(4 + c, 0, by, bx), 1e-5, "latent channel " + c + " of the start image");
                    assertEquals(0.0, y.getDouble(4 + c, 1, by, bx), 1e-6, "latent channel " + c + " of the zero frames");
                }
            }
        }
    }

    @Test
    void aLargerImageIsShrunkByAreaAveragingBeforeEncoding() {
        int w = 32;
        int h = 32;
        byte[] rgb = new byte[w * h * 3];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (byte) (i % 251);
        }
        RgbImage image = new RgbImage(w, h, rgb);
        FakeEncoders.BlockMeanVae vae = new FakeEncoders.BlockMeanVae();
        Tensor y = ImageConditioning.of(image, 16, 16, 1, vae);
        RgbImage shrunk = Resize.area(image, 16, 16);
        double sum = 0;
        for (int dy = 0; dy < 8; dy++) {
            for (int dx = 0; dx < 8; dx++) {
                sum += shrunk.get(8 + dx, dy, 1) / 127.5 - 1;
            }
        }
        assertEquals(sum / 64, y.getDouble(4 + 1, 0, 0, 1), 1e-5, "block (0, 1) of channel 1 of the area-shrunk image");
    }

    /**
     * First-last-frame (FLF2V, wan.md §2): the end image closes the conditioning clip, so with 5 frames the stand-in's
     * latent frame 1 (frames 1-4) is a quarter of the end image's block means; the mask is 1 on latent frame 0 in all four
     * channels and on the last latent frame in channel 3 only.
     */
    @Test
    void anEndImageClosesTheClipAndMarksTheLastLatentFrame() {
        int w = 16;
        int h = 16;
        byte[] first = new byte[w * h * 3];
        byte[] last = new byte[w * h * 3];
        for (int i = 0; i < first.length; i++) {
            first[i] = (byte) (i * 37 % 256);
            last[i] = (byte) (255 - i * 11 % 256);
        }
        RgbImage end = new RgbImage(w, h, last);
        Tensor y = ImageConditioning.of(new RgbImage(w, h, first), end, w, h, 5, new FakeEncoders.BlockMeanVae());
        for (int c = 0; c < 4; c++) {
            for (int by = 0; by < 2; by++) {
                for (int bx = 0; bx < 2; bx++) {
                    assertEquals(1.0, y.getDouble(c, 0, by, bx), "mask channel " + c + ", latent frame 0");
                    assertEquals(c == 3 ? 1.0 : 0.0, y.getDouble(c, 1, by, bx), "mask channel " + c + ", the last latent frame");
                    double sum = 0;
                    for (int dy = 0; dy < 8; dy++) {
                        for (int dx = 0; dx < 8; dx++) {
                            sum += end.get(8 * bx + dx, 8 * by + dy, c % 3) / 127.5 - 1;
                        }
                    }
                    assertEquals(sum / 64 / 4, y.getDouble(4 + c, 1, by, bx), 1e-5, "latent channel " + c + ": zeros, zeros, "
                        + "zeros and the end image");
                }
            }
        }
        assertThrows(IllegalArgumentException.class,
            () -> ImageConditioning.of(new RgbImage(w, h, first), end, w, h, 1, new FakeEncoders.BlockMeanVae()));
    }

    /**
     * A training sample's start image (upstream's do_inference): a 64×32 image whose left half is red 200 and right half
     * red 0, at a 32×32 prompt, is centre-cropped (cover, no scaling here): latent columns 0-1 hold red 200, 2-3 red 0; the
     * sample keeps the prompt's size.
     */
    @Test
    void aSamplesStartImageIsCroppedToThePromptsSize(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(64, 32, java.awt.image.BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 64; x++) {
                img.setRGB(x, y, x < 32 ? 200 << 16 : 0);
            }
        }
        java.nio.file.Path file = dir.resolve("start.png");
        javax.imageio.ImageIO.write(img, "png", file.toFile());
        ImageConditioning.StartImage s = ImageConditioning.forSample(file, null, 32, 32, 5, new FakeEncoders.BlockMeanVae(),
            null);
        assertEquals(32, s.width());
        assertEquals(32, s.height());
        for (int x = 0; x < 4; x++) {
            assertEquals(x < 2 ? 200 / 127.5 - 1 : -1.0, s.y().getDouble(4, 0, 1, x), 1e-5, "latent column " + x);
        }
    }
}
