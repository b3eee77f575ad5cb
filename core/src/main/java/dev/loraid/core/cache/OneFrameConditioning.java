package dev.loraid.core.cache;

import dev.loraid.core.data.Size;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;

/**
 * The conditioning y of one-frame inference (musubi docs/wan_1f.md, its {@code prepare_one_frame_inference}): a latent
 * frame per RoPE position; a control image's frame holds the image, resized to the output as a bucket is (cover, centre
 * crop) and encoded alone, behind mask channels of 1; the generated frame holds the encoding of a zero (mid-grey) frame
 * behind a mask of 0. The control images fill the control positions in ascending order.
 */
public final class OneFrameConditioning {
    private OneFrameConditioning() {
    }

    /**
     * y [4 + C, positions, height/8, width/8], F32 on the host.
     *
     * @param positions    the frames' RoPE positions, ascending
     * @param targetFrame  which of them is the generated frame
     * @param controls     the control images, one per other position
     */
    public static Tensor y(int[] positions, int targetFrame, List<Path> controls, int width, int height,
            LatentEncoder encoder) {
        if (controls.size() != positions.length - 1) {
            throw new IllegalArgumentException(controls.size() + " control image(s) for " + (positions.length - 1)
                + " control position(s): give one image per control_index");
        }
        Tensor grey;
        try (MemoryScope outside = MemoryScope.suspend()) {
            grey = encodeFrame(Tensor.zeros(DType.F32, 3, 1, height, width), encoder);
        }
        long c = grey.size(0);
        long h = grey.size(2);
        long w = grey.size(3);
        long plane = h * w;
        float[] y = new float[Math.toIntExact((4 + c) * positions.length * plane)];
        int next = 0;
        for (int j = 0; j < positions.length; j++) {
            boolean target = j == targetFrame;
            float[] latent;
            if (target) {
                latent = grey.toFloatArray();
            } else {
                RgbImage image = Resize.toBucket(Images.read(controls.get(next++)), new Size(width, height));
                try (MemoryScope outside = MemoryScope.suspend()) {
                    latent = encodeFrame(LatentCacher.pixels(List.of(image)), encoder).toFloatArray();
                }
            }
            for (int ch = 0; ch < 4 + c; ch++) {
                int at = Math.toIntExact((ch * positions.length + j) * plane);
                if (ch < 4) {
                    java.util.Arrays.fill(y, at, at + (int) plane, target ? 0f : 1f);
                } else {
                    System.arraycopy(latent, Math.toIntExact((ch - 4) * plane), y, at, (int) plane);
                }
            }
        }
        return Tensor.of(y, 4 + c, positions.length, h, w);
    }

    /** One frame [3, 1, H, W] encoded alone: [C, 1, H/8, W/8] F32 on the host. */
    private static Tensor encodeFrame(Tensor pixels, LatentEncoder encoder) {
        return encoder.encode(pixels).to(DType.F32).to(Device.CPU);
    }
}
