package dev.loraid.wan.clip;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;

/**
 * The pixels Wan's CLIP sees (spec wan.md §5.4 "Preprocessing"; upstream {@code CLIPModel.visual}): the [−1, 1] image
 * resized to S×S with PyTorch's {@code F.interpolate(mode='bicubic', align_corners=False)} (aspect ratio not kept, no
 * antialiasing, no clamping of the overshoot), mapped to [0, 1], then normalised with CLIP's mean and std per channel.
 */
public final class ClipImage {
    /** CLIP's normalisation (open-clip / OpenAI). */
    static final double[] MEAN = {0.48145466, 0.4578275, 0.40821073};
    static final double[] STD = {0.26862954, 0.26130258, 0.27577711};
    /** PyTorch's bicubic kernel parameter. */
    private static final float A = -0.75f;

    private ClipImage() {
    }

    /** {@code image} [3, H, W] in [−1, 1] → [3, size, size] F32 on the CPU, ready for {@link ClipVisionEncoder#forward}. */
    public static Tensor of(Tensor image, int size) {
        if (image.rank() != 3 || image.size(0) != 3) {
            throw new IllegalArgumentException("a CLIP image is [3, H, W] in [-1, 1], got " + image.shape());
        }
        int h = (int) image.size(1);
        int w = (int) image.size(2);
        float[] in = image.to(Device.CPU).to(DType.F32).toFloatArray();
        float[] resized = bicubic(in, 3, h, w, size, size);
        for (int c = 0; c < 3; c++) {
            float mean = (float) MEAN[c];
            float std = (float) STD[c];
            for (int i = c * size * size; i < (c + 1) * size * size; i++) {
                resized[i] = (resized[i] * 0.5f + 0.5f - mean) / std;
            }
        }
        return Tensor.of(resized, 3, size, size);
    }

    /**
     * PyTorch's bicubic resize of {@code planes} planes [h, w] to [oh, ow] with align_corners=False, in float as its CPU
     * kernel computes: source coordinate (dst + ½)·in/out − ½ (not clamped), the 4 taps at floor − 1 … floor + 2 read
     * with their indices clamped to the image, weights of the cubic convolution with A = −0.75.
     */
    static float[] bicubic(float[] in, int planes, int h, int w, int oh, int ow) {
        float[] out = new float[planes * oh * ow];
        int[] rowIdx = new int[oh * 4];
        float[] rowW = new float[oh * 4];
        taps(h, oh, rowIdx, rowW);
        int[] colIdx = new int[ow * 4];
        float[] colW = new float[ow * 4];
        taps(w, ow, colIdx, colW);
        for (int c = 0; c < planes; c++) {
            int base = c * h * w;
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    float acc = 0;
                    for (int i = 0; i < 4; i++) {
                        int row = base + rowIdx[y * 4 + i] * w;
                        float r = 0;
                        for (int j = 0; j < 4; j++) {
                            r += colW[x * 4 + j] * in[row + colIdx[x * 4 + j]];
                        }
                        acc += rowW[y * 4 + i] * r;
                    }
                    out[(c * oh + y) * ow + x] = acc;
                }
            }
        }
        return out;
    }

    /** The 4 clamped source indices and weights of every output position along one axis. */
    private static void taps(int in, int out, int[] idx, float[] weights) {
        float scale = (float) in / out;
        for (int o = 0; o < out; o++) {
            float real = scale * (o + 0.5f) - 0.5f;
            int i0 = (int) Math.floor(real);
            float t = real - i0;
            weights[o * 4] = far(t + 1f);
            weights[o * 4 + 1] = near(t);
            weights[o * 4 + 2] = near(1f - t);
            weights[o * 4 + 3] = far(2f - t);
            for (int k = 0; k < 4; k++) {
                idx[o * 4 + k] = Math.min(Math.max(i0 - 1 + k, 0), in - 1);
            }
        }
    }

    /** The cubic convolution kernel for |x| ≤ 1. */
    private static float near(float x) {
        return ((A + 2) * x - (A + 3)) * x * x + 1;
    }

    /** The cubic convolution kernel for 1 < |x| < 2. */
    private static float far(float x) {
        return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A;
    }
}
