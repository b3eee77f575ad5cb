package dev.loraid.core.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link OneFrameConditioning#y} through the block-mean VAE stand-in: frames in position order, the control images in
 * ascending positions behind a mask of 1, the generated frame's grey (zero) encoding behind a mask of 0; control images
 * of another size are resized to the output first; a count that does not match the positions is refused.
 */
class OneFrameConditioningTest {
    @TempDir
    Path dir;

    private Path flat(String name, int red, int w, int h) throws Exception {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, red << 16 | 60 << 8);
            }
        }
        Path p = dir.resolve(name);
        ImageIO.write(img, "png", p.toFile());
        return p;
    }

    @Test
    void controlsFillTheirPositionsAroundTheGeneratedFrame() throws Exception {
        Path start = flat("start.png", 200, 48, 32);
        Path end = flat("end.png", 20, 96, 64); // twice the output's size: resized first
        Tensor y = OneFrameConditioning.y(new int[] {0, 1, 2}, 1, List.of(start, end), 48, 32, new FakeEncoders.BlockMeanVae());
        assertEquals(List.of(8L, 3L, 4L, 6L), List.of(y.size(0), y.size(1), y.size(2), y.size(3)));
        for (int c = 0; c < 4; c++) {
            assertEquals(1.0, y.getDouble(c, 0, 1, 2), "mask on control frame 0");
            assertEquals(0.0, y.getDouble(c, 1, 1, 2), "no mask on the generated frame");
            assertEquals(1.0, y.getDouble(c, 2, 3, 5), "mask on control frame 2");
        }
        assertEquals(200 / 127.5 - 1, y.getDouble(4, 0, 2, 3), 1e-5, "the first control image's red at position 0");
        assertEquals(0.0, y.getDouble(4, 1, 2, 3), 1e-6, "the generated frame: a zero frame's encoding");
        assertEquals(20 / 127.5 - 1, y.getDouble(4, 2, 0, 0), 1e-5, "the second control image at position 2");
        assertEquals(60 / 127.5 - 1, y.getDouble(5, 2, 0, 0), 1e-5, "green");
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class, () -> OneFrameConditioning.y(
            new int[] {0, 1, 2}, 1, List.of(start), 48, 32, new FakeEncoders.BlockMeanVae()));
        assertTrue(count.getMessage().contains("1 control image(s) for 2 control position(s)"), count.getMessage());
    }
}
