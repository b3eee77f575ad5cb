package dev.loraid.core.generate;

import org.jcodec.api.FrameGrab;
import org.jcodec.common.io.NIOUtils;
import org.jcodec.common.io.SeekableByteChannel;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Picture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The MP4 writer: JCodec's own H.264 decoder reads the file back with the frames' count, size, order and colours. */
class Mp4VideoTest {
    @TempDir
    Path dir;

    @Test
    void framesComeBackFromJCodecsDecoder() throws Exception {
        int[][] colours = {{200, 40, 40}, {40, 200, 40}, {40, 40, 200}, {128, 128, 128}, {230, 200, 30}};
        List<BufferedImage> frames = new ArrayList<>();
        for (int[] c : colours) {
            BufferedImage img = new BufferedImage(48, 32, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 48; x++) {
                    img.setRGB(x, y, (c[0] << 16) | (c[1] << 8) | c[2]);
                }
            }
            frames.add(img);
        }
        Path mp4 = dir.resolve("v.mp4");
        Mp4Video.write(frames, 16, mp4);
        List<double[]> means = decodedMeans(mp4, 48, 32);
        assertEquals(colours.length, means.size());
        // H.264 is lossy: JCodec's rate control quantises the P-frames' chroma more coarsely than the I-frame's
        double worst = 0;
        for (int i = 0; i < colours.length; i++) {
            for (int c = 0; c < 3; c++) {
                double err = Math.abs(colours[i][c] - means.get(i)[c]);
                worst = Math.max(worst, err);
                assertTrue(err <= (i == 0 ? 3.0 : 10.0), "frame " + i + " channel " + c + ": " + means.get(i)[c] + " for "
                        + colours[i][c]);
            }
        }
        System.out.printf("mp4: worst |mean colour error| over 5 solid frames %.2f levels%n", worst);
        try (var s = Files.list(dir)) {
            assertTrue(s.allMatch(p -> p.equals(mp4)), "only the mp4, no temp file");
        }
    }

    @Test
    void oddSizesAndMixedSizesAreRefused() {
        BufferedImage odd = new BufferedImage(17, 8, BufferedImage.TYPE_INT_RGB);
        assertTrue(org.junit.jupiter.api.Assertions.assertThrows(dev.loraid.core.LoraidException.class,
                () -> Mp4Video.write(List.of(odd), 16, dir.resolve("odd.mp4"))).getMessage().contains("17×8"));
        BufferedImage a = new BufferedImage(16, 8, BufferedImage.TYPE_INT_RGB);
        BufferedImage b = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
        assertTrue(org.junit.jupiter.api.Assertions.assertThrows(dev.loraid.core.LoraidException.class,
                () -> Mp4Video.write(List.of(a, b), 16, dir.resolve("mixed.mp4"))).getMessage().contains("frame 1 is 8×8"));
        assertTrue(!Files.exists(dir.resolve("mixed.mp4")));
    }

    /** Each decoded frame's mean RGB (BT.601, the range the decoder reports), checking its cropped size. */
    static List<double[]> decodedMeans(Path mp4, int w, int h) throws Exception {
        List<double[]> out = new ArrayList<>();
        try (SeekableByteChannel ch = NIOUtils.readableChannel(mp4.toFile())) {
            FrameGrab grab = FrameGrab.createFrameGrab(ch);
            Picture p;
            while ((p = grab.getNativeFrame()) != null) {
                assertEquals(w, p.getCroppedWidth(), "width");
                assertEquals(h, p.getCroppedHeight(), "height");
                out.add(meanRgb(p, w, h));
            }
        }
        return out;
    }

    static double[] meanRgb(Picture p, int w, int h) {
        assertTrue(p.getColor() == ColorSpace.YUV420J || p.getColor() == ColorSpace.YUV420, p.getColor().toString());
        boolean full = p.getColor() == ColorSpace.YUV420J;
        double[] sum = new double[3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double yy = p.getPlaneData(0)[y * p.getPlaneWidth(0) + x] + 128;
                double u = p.getPlaneData(1)[(y >> 1) * p.getPlaneWidth(1) + (x >> 1)];
                double v = p.getPlaneData(2)[(y >> 1) * p.getPlaneWidth(2) + (x >> 1)];
                double l = full ? yy : 1.164383 * (yy - 16);
                sum[0] += l + (full ? 1.402 : 1.596027) * v;
                sum[1] += l - (full ? 0.344136 : 0.391762) * u - (full ? 0.714136 : 0.812968) * v;
                sum[2] += l + (full ? 1.772 : 2.017232) * u;
            }
        }
        for (int c = 0; c < 3; c++) {
            sum[c] /= (double) w * h;
        }
        return sum;
    }
}

