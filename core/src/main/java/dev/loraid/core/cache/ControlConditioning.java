package dev.loraid.core.cache;

import dev.loraid.core.data.Size;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Fun-Control's conditioning y (training.md §1.8; upstream's {@code call_dit} and {@code prepare_i2v_inputs}): the
 * control video's latents, then the start image's latents without their 4 mask channels and with every frame after the
 * first zeroed (zeros without a start image), 2·C channels in all (in_dim 48 = 16 + 32). Training reads the control
 * latents from the cache ({@code latents_control}); generation encodes {@code --control_path}.
 */
public final class ControlConditioning {
    private ControlConditioning() {
    }

    /**
     * y from the control latents [C, F, H, W] and the I2V conditioning [4 + C, F, H, W] (its mask dropped, frames 1..
     * zeroed), or zeros for the image part when {@code image} is null; F32 on the host.
     *
     * @throws IllegalArgumentException naming {@code where} when the two do not fit
     */
    public static Tensor of(Tensor control, Tensor image, String where) {
        Tensor ctl = control.to(Device.CPU).to(DType.F32).contiguous();
        long ch = ctl.size(0);
        long plane = ctl.shape().numel() / ch;
        long frame = plane / ctl.size(1);
        float[] out = new float[Math.toIntExact(2 * ch * plane)];
        System.arraycopy(ctl.toFloatArray(), 0, out, 0, (int) (ch * plane));
        if (image != null) {
            Tensor img = image.to(Device.CPU).to(DType.F32).contiguous();
            if (img.size(0) != ch + 4 || img.shape().numel() != (ch + 4) * plane) {
                throw new IllegalArgumentException(where + ": the image conditioning " + img.shape() + " does not fit the control "
                        + "latents " + ctl.shape() + " (expected [" + (ch + 4) + ", ...] of the same frames and size)");
            }
            float[] v = img.toFloatArray();
            for (long c = 0; c < ch; c++) {
                System.arraycopy(v, (int) ((c + 4) * plane), out, (int) ((ch + c) * plane), (int) frame); // frame 0 only
            }
        }
        long[] shape = ctl.shape().toArray();
        shape[0] = 2 * ch;
        return Tensor.of(out, shape);
    }

    /**
     * The latents of the first {@code frames} frames of {@code video} (a file or a folder of frames), each resized to
     * {@code width × height} as upstream resizes to a bucket (cover, then centre crop), scaled to [−1, 1] and encoded;
     * F32 on the host.
     *
     * @throws IllegalArgumentException when the video has fewer frames (upstream refuses it too)
     */
    public static Tensor latents(Path video, int frames, int width, int height, LatentEncoder encoder) {
        List<RgbImage> decoded = Videos.read(video, new Videos.FrameFilter() {
            @Override
            public boolean keep(int index) {
                return true;
            }

            @Override
            public int limit() {
                return frames;
            }
        });
        if (decoded.size() < frames) {
            throw new IllegalArgumentException(video + " has " + decoded.size() + " frames, fewer than the " + frames
                    + " generated");
        }
        List<RgbImage> sized = new ArrayList<>();
        for (RgbImage f : decoded) {
            sized.add(Resize.toBucket(f, new Size(width, height)));
        }
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor latent = encoder.encode(LatentCacher.pixels(sized));
            try (MemoryScope outside = MemoryScope.suspend()) {
                return latent.to(DType.F32).to(Device.CPU).copy();
            }
        }
    }
}
