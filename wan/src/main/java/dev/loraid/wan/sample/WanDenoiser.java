package dev.loraid.wan.sample;

import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanInputs;
import dev.loraid.wan.WanModel;

import java.util.List;

/**
 * A Wan DiT as a {@link Denoiser}: the prompt's and the negative prompt's text embeddings ([L, text_dim], unpadded),
 * optional I2V conditioning y and CLIP tokens for both passes, and the blocks skip-layer guidance skips. The DiT gets
 * the schedule's timestep as given (integer for unipc/dpm++, float32 for vanilla; §6.4). {@code framePositions} places the
 * latent frames on RoPE's frame axis (one-frame inference), null for 0..F-1.
 */
public record WanDenoiser(WanModel model, Tensor context, Tensor negativeContext, Tensor y, Tensor clip,
                          List<Integer> slgLayers, int[] framePositions) implements Denoiser {

    public WanDenoiser {
        slgLayers = List.copyOf(slgLayers);
    }

    public static WanDenoiser textToVideo(WanModel model, Tensor context, Tensor negativeContext, List<Integer> slgLayers) {
        return new WanDenoiser(model, context, negativeContext, null, null, slgLayers, null);
    }

    @Override
    public Tensor predict(Tensor x, double t, Branch branch) {
        Tensor ctx = branch == Branch.COND ? context : negativeContext;
        WanInputs in = new WanInputs(x, Tensor.of(new float[] {(float) t}, 1), ctx, y, clip).withFramePositions(framePositions);
        return model.forward(branch == Branch.UNCOND_SKIPPED ? in.withSkippedBlocks(slgLayers) : in);
    }
}
