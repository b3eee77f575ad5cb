package dev.loraid.core.demo;

import dev.loraid.tensor.Tensor;

/**
 * The demo's stand-in for the Wan VAE: a fixed, documented patch transform between RGB pictures and the DiT's
 * 4-channel latents. Encode: each 4×4-pixel patch becomes one latent pixel holding the patch means of R, G, B and
 * luminance (0.299 R + 0.587 G + 0.114 B), each as 2·(mean − background), the background being the demo world's
 * ({@link DemoScenes#BACKGROUND} and its luminance). Decode: channels 0–2 back (z/2 + background), clamped to [0, 1],
 * and each latent pixel upsampled to a 4×4 block (nearest); luminance is not needed to decode.
 * <p>Why centred on the background: like the Wan VAE's latent normalisation it centres the latents, here on the value
 * that covers most of every picture, so that the DiT predicts empty background as plain noise, which its head's
 * LayerNorm passes at any σ; centred on 0.5 instead (2·mean − 1) the base model left the background speckled.
 * Stride 4 in space, one latent frame per picture.
 */
public final class PatchLatents {
    /** Pixels per latent pixel, each way. */
    public static final int STRIDE = 4;
    /** R, G, B, luminance. */
    public static final int CHANNELS = 4;

    /** The pixel value each channel's latent 0 stands for: the background's R, G, B and luminance. */
    private static final double[] ZERO = {DemoScenes.BACKGROUND[0], DemoScenes.BACKGROUND[1], DemoScenes.BACKGROUND[2],
            luminance(DemoScenes.BACKGROUND[0], DemoScenes.BACKGROUND[1], DemoScenes.BACKGROUND[2])};

    private PatchLatents() {
    }

    private static double luminance(double r, double g, double b) {
        return 0.299 * r + 0.587 * g + 0.114 * b;
    }

    /** [4, 1, H/4, W/4] latents of a picture whose sides are multiples of 4. */
    public static Tensor encode(Picture p) {
        if (p.width() % STRIDE != 0 || p.height() % STRIDE != 0) {
            throw new IllegalArgumentException("picture " + p.width() + "×" + p.height() + ": sides must be multiples of " + STRIDE);
        }
        int h = p.height() / STRIDE;
        int w = p.width() / STRIDE;
        float[] out = new float[CHANNELS * h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double[] sum = new double[3];
                for (int dy = 0; dy < STRIDE; dy++) {
                    for (int dx = 0; dx < STRIDE; dx++) {
                        for (int c = 0; c < 3; c++) {
                            sum[c] += p.get(c, x * STRIDE + dx, y * STRIDE + dy);
                        }
                    }
                }
                double n = STRIDE * STRIDE;
                double r = sum[0] / n;
                double g = sum[1] / n;
                double b = sum[2] / n;
                double[] v = {r, g, b, luminance(r, g, b)};
                for (int c = 0; c < CHANNELS; c++) {
                    out[(c * h + y) * w + x] = (float) (2 * (v[c] - ZERO[c]));
                }
            }
        }
        return Tensor.of(out, CHANNELS, 1, h, w);
    }

    /** The picture of latent frame {@code frame} of [4, F, h, w] latents: channel/2 + background, clamped, 4×4 nearest. */
    public static Picture decode(Tensor latent, int frame) {
        if (latent.rank() != 4 || latent.size(0) != CHANNELS) {
            throw new IllegalArgumentException("latent " + latent.shape() + ": expected [4, F, H, W]");
        }
        int f = (int) latent.size(1);
        int h = (int) latent.size(2);
        int w = (int) latent.size(3);
        float[] v = latent.contiguous().toFloatArray();
        Picture p = new Picture(w * STRIDE, h * STRIDE);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h * STRIDE; y++) {
                for (int x = 0; x < w * STRIDE; x++) {
                    float z = v[((c * f + frame) * h + y / STRIDE) * w + x / STRIDE];
                    p.set(c, x, y, Math.clamp((float) (z / 2 + ZERO[c]), 0f, 1f));
                }
            }
        }
        return p;
    }
}
