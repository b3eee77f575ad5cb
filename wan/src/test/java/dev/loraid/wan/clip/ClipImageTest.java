package dev.loraid.wan.clip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.loraid.tensor.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link ClipImage}: PyTorch's bicubic resize, worked by hand, and CLIP's normalisation. */
class ClipImageTest {

    /**
     * torch: F.interpolate(arange(4).view(1, 1, 1, 4), size=(1, 2), mode='bicubic', align_corners=False) = [0.40625,
     * 2.59375]. Worked: scale 2, source x = 0.5 and 2.5, t = ½, weights (−3/32, 19/32, 19/32, −3/32) on the taps
     * (−1→0, 0, 1, 2) and (1, 2, 3, 4→3).
     */
    @Test
    void downscalingARampByTwo() {
        float[] out = ClipImage.bicubic(new float[] {0, 1, 2, 3}, 1, 1, 4, 1, 2);
        assertArrayEquals(new float[] {0.40625f, 2.59375f}, out, 1e-6f);
    }

    /**
     * Upscaling [0, 1] to 4 (scale ½): source x = −0.25, 0.25, 0.75, 1.25. At −0.25 (floor −1, t = 0.75) the taps
     * −2, −1, 0, 1 clamp to 0, 0, 0, 1 with weights (−0.03515625, 0.26171875, 0.87890625, −0.10546875), so the value is
     * −0.10546875; at 0.25 (t = ¼) the weights reverse on taps −1→0, 0, 1, 2→1: 0.26171875 − 0.03515625 = 0.2265625.
     * The other two mirror these: [−0.10546875, 0.2265625, 0.7734375, 1.10546875], also from the kernel's formula.
     */
    @Test
    void upscalingReadsClampedTaps() {
        float[] out = ClipImage.bicubic(new float[] {0, 1}, 1, 1, 2, 1, 4);
        double a = -0.75;
        double[] expected = new double[4];
        double[] xs = {-0.25, 0.25, 0.75, 1.25};
        for (int o = 0; o < 4; o++) {
            int i0 = (int) Math.floor(xs[o]);
            double t = xs[o] - i0;
            double[] w = {far(t + 1, a), near(t, a), near(1 - t, a), far(2 - t, a)};
            for (int k = 0; k < 4; k++) {
                int idx = Math.min(Math.max(i0 - 1 + k, 0), 1);
                expected[o] += w[k] * idx; // the pixel at idx has value idx
            }
        }
        for (int o = 0; o < 4; o++) {
            assertEquals(expected[o], out[o], 1e-6, "x " + o);
        }
        assertArrayEquals(new float[] {-0.10546875f, 0.2265625f, 0.7734375f, 1.10546875f}, out, 1e-6f,
            "the overshoot below 0 and above 1 is kept, not clamped");
    }

    private static double near(double x, double a) {
        return ((a + 2) * x - (a + 3)) * x * x + 1;
    }

    private static double far(double x, double a) {
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    }

    @Test
    void theSameSizeIsTheIdentityAndAConstantStaysConstant() {
        SplittableRandom r = new SplittableRandom(3);
        float[] img = new float[3 * 5 * 7];
        for (int i = 0; i < img.length; i++) {
            img[i] = (float) (r.nextDouble() * 2 - 1);
        }
        assertArrayEquals(img, ClipImage.bicubic(img, 3, 5, 7, 5, 7), 1e-6f);
        float[] flat = new float[3 * 9 * 13];
        java.util.Arrays.fill(flat, 0.25f);
        for (float v : ClipImage.bicubic(flat, 3, 9, 13, 4, 6)) {
            assertEquals(0.25f, v, 1e-6f);
        }
    }

    @Test
    void normalisesWithClipsMeanAndStd() {
        float[] v = new float[3 * 2 * 2];
        java.util.Arrays.fill(v, 0, 4, -1f);   // red channel black
        java.util.Arrays.fill(v, 4, 8, 0f);    // green grey
        java.util.Arrays.fill(v, 8, 12, 1f);   // blue white
        float[] out = ClipImage.of(Tensor.of(v, 3, 2, 2), 2).toFloatArray();
        assertEquals((0 - 0.48145466) / 0.26862954, out[0], 1e-5);
        assertEquals((0.5 - 0.4578275) / 0.26130258, out[4], 1e-5);
        assertEquals((1 - 0.40821073) / 0.27577711, out[8], 1e-5);
        assertThrows(IllegalArgumentException.class, () -> ClipImage.of(Tensor.of(new float[4], 1, 2, 2), 2));
    }
}
