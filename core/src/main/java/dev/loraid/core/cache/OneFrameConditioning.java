package dev.loraid.core.cache;

import dev.loraid.core.data.Size;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
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
     * y [4 + C, positions, height/8, width/8] for generation, F32 on the host: the control images resized to
     * {@code width × height} and encoded one by one, the generated frame's place holding a zero frame's encoding.
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
        List<Tensor> latents = new ArrayList<>();
        for (Path control : controls) {
            RgbImage image = Resize.toBucket(Images.read(control), new Size(width, height));
            latents.add(encodeFrame(LatentCacher.pixels(List.of(image)), encoder));
        }
        Tensor grey = encodeFrame(Tensor.zeros(DType.F32, 3, 1, height, width), encoder);
        latents.add(targetFrame, grey);
        return y(latents, targetFrame, grey);
    }

    /**
     * y from latent frames [C, 1, h, w] in position order: a mask of 1 and the frame's latent on every frame but
     * {@code targetFrame}, which gets a mask of 0 and {@code grey} (the encoding of a zero frame). F32 on the host.
     */
    public static Tensor y(List<Tensor> frames, int targetFrame, Tensor grey) {
        List<Tensor> conditioning = new ArrayList<>(frames);
        conditioning.set(targetFrame, grey);
        Tensor latents = frames(conditioning);
        long n = latents.size(1);
        long plane = latents.size(2) * latents.size(3);
        float[] mask = new float[Math.toIntExact(4 * n * plane)];
        for (int ch = 0; ch < 4; ch++) {
            for (int j = 0; j < n; j++) {
                int at = Math.toIntExact((ch * n + j) * plane);
                Arrays.fill(mask, at, at + (int) plane, j == targetFrame ? 0f : 1f);
            }
        }
        float[] l = latents.toFloatArray();
        float[] y = Arrays.copyOf(mask, mask.length + l.length);
        System.arraycopy(l, 0, y, mask.length, l.length);
        return Tensor.of(y, 4 + latents.size(0), n, latents.size(2), latents.size(3));
    }

    /** Latent frames [C, 1, h, w] side by side: [C, frames, h, w], F32 on the host. */
    public static Tensor frames(List<Tensor> frames) {
        Tensor first = frames.getFirst();
        long c = first.size(0);
        long plane = first.size(2) * first.size(3);
        int n = frames.size();
        float[] out = new float[Math.toIntExact(c * n * plane)];
        for (int j = 0; j < n; j++) {
            float[] f = frames.get(j).to(DType.F32).to(Device.CPU).toFloatArray();
            for (int ch = 0; ch < c; ch++) {
                System.arraycopy(f, Math.toIntExact(ch * plane), out, Math.toIntExact((ch * n + j) * plane), (int) plane);
            }
        }
        return Tensor.of(out, c, n, first.size(2), first.size(3));
    }

    /** One frame [3, 1, H, W] encoded alone: [C, 1, H/8, W/8] F32 on the host. */
    private static Tensor encodeFrame(Tensor pixels, LatentEncoder encoder) {
        try (MemoryScope outside = MemoryScope.suspend()) {
            return encoder.encode(pixels).to(DType.F32).to(Device.CPU);
        }
    }
}
