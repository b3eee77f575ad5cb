package dev.loraid.wan;

import dev.loraid.autograd.Var;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;

import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The scoped memory of one checkpointed forward and backward pass of a small random Wan model (dim 64, L = 64 tokens):
 * what tests of checkpointing's memory compare between block counts.
 */
public final class CheckpointedStepMemory {
    private static final long[] LATENTS = {4, 1, 16, 16}; // 8 x 8 patches

    /** Bytes of one residual stream [L, D] f32 of these models. */
    public static final long STREAM = 64L * 64 * 4;

    private CheckpointedStepMemory() {
    }

    /** The model of {@code blocks} blocks: dim 64, ffn 128, 4 heads, text 32 x 8. */
    public static WanConfig config(int blocks) {
        return new WanConfig("2.1", 1, 2, 2, 4, 4, 64, 128, 4, blocks, 32, 32, 8, 1e-6, false, false);
    }

    /**
     * Bytes held after the forward pass, and the peak over the whole pass, of such a model with checkpointing on,
     * blocks.0.self_attn.q.weight trainable, and {@code setUp} applied.
     */
    public static long[] heldAndPeak(int blocks, Consumer<WanModel> setUp) {
        WanConfig c = config(blocks);
        WanModel model = WanModel.load(c, new WanWeights(RandomWanWeights.of(c, 4), "random"));
        model.namedParameters().get("blocks.0.self_attn.q.weight").requiresGrad(true);
        model.setGradientCheckpointing(true);
        setUp.accept(model);
        SplittableRandom rnd = new SplittableRandom(9);
        Tensor latent = RandomWanWeights.gaussian(rnd, LATENTS);
        Tensor context = RandomWanWeights.gaussian(rnd, 8, c.textDim());
        Tensor seed = RandomWanWeights.gaussian(rnd, LATENTS);
        MemoryScope.resetPeak(Device.CPU);
        try (MemoryScope step = MemoryScope.open()) {
            Var out = model.forward(Var.constant(latent), new double[] {500}, Var.constant(context), WanTaps.NONE);
            long held = step.bytesInUse(Device.CPU);
            out.backward(seed);
            return new long[] {held, MemoryScope.peakBytesInUse(Device.CPU)};
        }
    }
}
