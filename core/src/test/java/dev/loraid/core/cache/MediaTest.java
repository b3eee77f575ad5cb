package dev.loraid.core.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.LoraidException;
import dev.loraid.core.data.Size;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.jcodec.api.SequenceEncoder;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Picture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Image and video decoding for caching (training.md §4.2): conversions as Pillow does them, clear errors. */
class MediaTest {
    @TempDir
    Path dir;

    @Test
    void imagesBecomeRgbAsPillowConvertsThem() throws IOException {
        // greyscale: the raw sample in all three channels (Java's getRGB would gamma-convert linear grey)
        BufferedImage grey = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setSample(0, 0, 0, 100);
        grey.getRaster().setSample(1, 0, 0, 200);
        RgbImage g = write(grey, "grey.png");
        assertEquals(List.of(100, 100, 100, 200), List.of(g.get(0, 0, 0), g.get(0, 0, 1), g.get(0, 0, 2), g.get(1, 0, 0)));
        // alpha dropped, not composited: a transparent pixel keeps its colour
        BufferedImage rgba = new BufferedImage(1, 1, BufferedImage.TYPE_INT_ARGB);
        rgba.setRGB(0, 0, 0x00_10_20_30);
        RgbImage a = write(rgba, "alpha.png");
        assertEquals(List.of(0x10, 0x20, 0x30), List.of(a.get(0, 0, 0), a.get(0, 0, 1), a.get(0, 0, 2)));
        // 16-bit greyscale keeps the high byte
        BufferedImage g16 = new BufferedImage(1, 1, BufferedImage.TYPE_USHORT_GRAY);
        g16.getRaster().setSample(0, 0, 0, 0xABCD);
        assertEquals(0xAB, write(g16, "grey16.png").get(0, 0, 1));
        // palette images are looked up
        BufferedImage pal = new BufferedImage(1, 1, BufferedImage.TYPE_BYTE_INDEXED);
        pal.setRGB(0, 0, 0xFF0000);
        assertEquals(255, write(pal, "pal.png").get(0, 0, 0));
        // the fixture's PNG
        assertEquals(new Size(50, 30), Images.read(CacheFixture.dir().resolve("images/img_a.png")).size());
    }

    @Test
    void badImagesNameTheFile() throws IOException {
        Path png = CacheFixture.dir().resolve("images/img_a.png");
        byte[] bytes = Files.readAllBytes(png);
        Path truncated = dir.resolve("cut.png");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
        assertMessage(() -> Images.read(truncated), "cut.png");
        Path junk = dir.resolve("junk.jpg");
        Files.writeString(junk, "not an image");
        assertMessage(() -> Images.read(junk), "junk.jpg");
        Path avif = dir.resolve("x.avif");
        Files.writeString(avif, "");
        assertTrue(assertMessage(() -> Images.read(avif), "x.avif").contains("supported: .png .jpg .jpeg .webp .bmp"));
    }

    @Test
    void mpeg4Part2FromTheFixture() {
        List<RgbImage> frames = Videos.read(CacheFixture.dir().resolve("videos/clip1.mp4"), FrameExtraction.filter(null, 100));
        assertEquals(5, frames.size());
        assertEquals(new Size(56, 32), frames.getFirst().size());
        // head with target 1 stops after one frame
        assertEquals(1, Videos.read(CacheFixture.dir().resolve("videos/clip1.mp4"), FrameExtraction.filter(null, 1)).size());
    }

    @Test
    void h264MadeWithJCodec() throws IOException {
        Path mp4 = dir.resolve("grey.mp4");
        int[] levels = {40, 80, 120, 160, 200, 240};
        SequenceEncoder enc = SequenceEncoder.createSequenceEncoder(mp4.toFile(), 16);
        for (int level : levels) {
            Picture p = Picture.create(64, 48, ColorSpace.RGB);
            Arrays.fill(p.getPlaneData(0), (byte) (level - 128));
            enc.encodeNativeFrame(p);
        }
        enc.finish();
        List<RgbImage> frames = Videos.read(mp4, FrameExtraction.filter(null, 100));
        assertEquals(levels.length, frames.size());
        // JCodec's encoder maps RGB to YUV its own way (40 → Y 37), so the round trip is only close; the order and
        // the size are exact
        for (int i = 0; i < levels.length; i++) {
            assertEquals(new Size(64, 48), frames.get(i).size());
            assertEquals(levels[i], frames.get(i).get(20, 20, 1), 20.0, "frame " + i + " grey level");
            assertTrue(i == 0 || frames.get(i).get(20, 20, 1) > frames.get(i - 1).get(20, 20, 1), "frame order");
        }
        // source_fps 32 → 16: every other frame
        List<RgbImage> half = Videos.read(mp4, FrameExtraction.filter(32.0, 100));
        assertEquals(3, half.size());
        assertEquals(frames.get(2).get(20, 20, 1), half.get(1).get(20, 20, 1));
    }

    @Test
    void frameFoldersAndUnsupportedContainers() throws IOException {
        Path folder = dir.resolve("clip");
        Files.createDirectories(folder);
        for (int i = 0; i < 3; i++) {
            BufferedImage img = new BufferedImage(16, 8, BufferedImage.TYPE_3BYTE_BGR);
            img.setRGB(0, 0, i * 50);
            ImageIO.write(img, "png", folder.resolve("f" + i + ".png").toFile());
        }
        List<RgbImage> frames = Videos.read(folder, FrameExtraction.filter(null, 100));
        assertEquals(3, frames.size());
        assertEquals(100, frames.get(2).get(0, 0, 2));

        Path webm = dir.resolve("x.webm");
        Files.writeString(webm, "");
        assertTrue(assertMessage(() -> Videos.read(webm, FrameExtraction.filter(null, 9)), "x.webm")
            .contains("supported: .mp4"));
        byte[] clip = Files.readAllBytes(CacheFixture.dir().resolve("videos/clip1.mp4"));
        Path cut = dir.resolve("cut.mp4");
        Files.write(cut, Arrays.copyOf(clip, 700));
        assertMessage(() -> Videos.read(cut, FrameExtraction.filter(null, 9)), "cut.mp4");
    }

    private RgbImage write(BufferedImage img, String name) throws IOException {
        Path p = dir.resolve(name);
        assertTrue(ImageIO.write(img, "png", p.toFile()));
        return Images.read(p);
    }

    static String assertMessage(org.junit.jupiter.api.function.Executable run, String fragment) {
        LoraidException e = assertThrows(LoraidException.class, run);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        return e.getMessage();
    }

}
