package dev.loraid.core.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.loraid.core.data.Size;
import org.junit.jupiter.api.Test;

/** Resize to bucket (training.md §4.4) against hand-computed values. */
class ResizeTest {
    /** A 1-row image whose three channels all hold {@code values}. */
    static RgbImage row(int... values) {
        byte[] b = new byte[values.length * 3];
        for (int i = 0; i < values.length; i++) {
            b[i * 3] = b[i * 3 + 1] = b[i * 3 + 2] = (byte) values[i];
        }
        return new RgbImage(values.length, 1, b);
    }

    static int[] red(RgbImage img) {
        int[] out = new int[img.width() * img.height()];
        for (int y = 0; y < img.height(); y++) {
            for (int x = 0; x < img.width(); x++) {
                out[y * img.width() + x] = img.get(x, y, 0);
            }
        }
        return out;
    }

    @Test
    void lanczosMatchesPillowsFormula() {
        // Pillow precompute_coeffs by hand (double, then rounded): support 3, centre (x+0.5)·in/out, normalised
        // 4 → 6: [-30.756, 142.482, 245.303, 33.245, 23.839, 116.48]
        assertArrayEquals(new int[] {0, 142, 245, 33, 24, 116}, red(Resize.lanczos(row(0, 255, 0, 100), 6, 1)));
        // 2 → 5: [-28.522, 26.571, 105.0, 183.429, 238.522]
        assertArrayEquals(new int[] {0, 27, 105, 183, 239}, red(Resize.lanczos(row(10, 200), 5, 1)));
        // a constant image stays constant in both passes (weights sum to 1 in fixed point)
        RgbImage flat = Resize.lanczos(solid(5, 3, 77), 9, 7);
        for (int v : red(flat)) {
            assertEquals(77, v);
        }
    }

    @Test
    void areaAveragesOverlaps() {
        // 4 → 2: plain pair means; (0+2)/2 = 1, (4+6)/2 = 5
        assertArrayEquals(new int[] {1, 5}, red(Resize.area(row(0, 2, 4, 6), 2, 1)));
        // 3 → 2, scale 1.5: dst0 = (s0 + s1/2)/1.5, dst1 = (s1/2 + s2)/1.5 → (0 + 15)/1.5 = 10, (15 + 90)/1.5 = 70
        assertArrayEquals(new int[] {10, 70}, red(Resize.area(row(0, 30, 90), 2, 1)));
        // 2x2 → 1x1 in both directions
        RgbImage sq = new RgbImage(2, 2, new byte[] {0, 0, 0, 40, 40, 40, 80, 80, 80, 120, 120, 120});
        assertArrayEquals(new int[] {60}, red(Resize.area(sq, 1, 1)));
    }

    @Test
    void toBucketScalesThenCropsTheCentre() {
        // same size: untouched
        RgbImage b = solid(48, 32, 5);
        assertSame(b, Resize.toBucket(b, new Size(48, 32)));
        // 64x32 → 48x32: scale max(0.75, 1) = 1, no resampling, crop left (64-48)//2 = 8
        RgbImage ramp = xRamp(64, 32);
        RgbImage out = Resize.toBucket(ramp, new Size(48, 32));
        assertEquals(new Size(48, 32), out.size());
        assertEquals(8, out.get(0, 0, 0));
        assertEquals(55, out.get(47, 31, 0));
        // 96x40 → 48x16: scale max(0.5, 0.4) = 0.5 → area to 48x20, crop top (20-16)//2 = 2; x ramp averages pairs
        RgbImage down = Resize.toBucket(xRamp(96, 40), new Size(48, 16));
        assertEquals(new Size(48, 16), down.size());
        assertEquals(Math.rint(0.5), down.get(0, 0, 0)); // (0+1)/2 = 0.5 → half to even: 0
        assertEquals(Math.rint(2.5), down.get(1, 0, 0)); // (2+3)/2 = 2.5 → 2
        // 50x30 → 48x32 (img_a of the fixture): scale 32/30 > 1 → LANCZOS to int(53.33+0.5)=53 x 32, crop left 2
        RgbImage up = Resize.toBucket(solid(50, 30, 200), new Size(48, 32));
        assertEquals(new Size(48, 32), up.size());
        assertEquals(200, up.get(47, 31, 2));
    }

    static RgbImage solid(int w, int h, int v) {
        byte[] b = new byte[w * h * 3];
        java.util.Arrays.fill(b, (byte) v);
        return new RgbImage(w, h, b);
    }

    static RgbImage xRamp(int w, int h) {
        byte[] b = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                b[(y * w + x) * 3] = (byte) x;
            }
        }
        return new RgbImage(w, h, b);
    }
}
