package dev.loraid.core.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ControlConditioning#latents}: the first frames of a control video (a folder of frames here), resized to the
 * video and encoded, checked through the block-mean VAE stand-in (latent frame 1 averages frames 1-4); a video shorter
 * than the generation is refused.
 */
class ControlConditioningTest {
    @Test
    void theFirstFramesAreResizedAndEncoded(@TempDir Path dir) throws Exception {
        Path frames = Files.createDirectories(dir.resolve("control"));
        for (int f = 0; f < 6; f++) { // one more than used: the sixth must not count
            BufferedImage img = new BufferedImage(32, 16, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 16; y++) {
                for (int x = 0; x < 32; x++) {
                    img.setRGB(x, y, (40 * f) << 16); // red channel 40·f, the rest 0
                }
            }
            ImageIO.write(img, "png", frames.resolve(String.format("%03d.png", f)).toFile());
        }
        Tensor latents = ControlConditioning.latents(frames, 5, 32, 16, new FakeEncoders.BlockMeanVae());
        assertEquals(List.of(4L, 2L, 2L, 4L), List.of(latents.size(0), latents.size(1), latents.size(2), latents.size(3)));
        assertEquals(0 / 127.5 - 1, latents.getDouble(0, 0, 0, 0), 1e-6, "red of frame 0");
        double meanRed = (40 + 80 + 120 + 160) / 4.0 / 127.5 - 1;
        assertEquals(meanRed, latents.getDouble(0, 1, 1, 3), 1e-6, "red of frames 1-4 (not 5)");
        assertEquals(-1.0, latents.getDouble(1, 1, 0, 0), 1e-6, "green");
        IllegalArgumentException shorter = assertThrows(IllegalArgumentException.class,
            () -> ControlConditioning.latents(frames, 9, 32, 16, new FakeEncoders.BlockMeanVae()));
        assertTrue(shorter.getMessage().contains("has 6 frames, fewer than the 9 generated"), shorter.getMessage());
    }
}
