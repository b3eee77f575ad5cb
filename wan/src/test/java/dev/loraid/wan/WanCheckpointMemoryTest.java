package dev.loraid.wan;

import dev.loraid.autograd.Var;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Block-level gradient checkpointing (training.md §3.5) costs one residual stream [L, D] per block: after the forward
 * (the block's input, kept for its recomputation) and at the peak of the backward pass (each block's input gradient
 * is given back once the block before it has used it), measured as the difference between the same model with 6
 * and with 2 blocks. Before, each block kept three sub-block inputs and the backward pass three gradients more.
 */
class WanCheckpointMemoryTest {
    private static final long[] LATENTS = {4, 1, 16, 16}; // 8 x 8 patches: L = 64 tokens

    @Test
    void eachCheckpointedBlockCostsOneResidualStream() {
        long[] two = heldAndPeak(2);
        long[] six = heldAndPeak(6);
        long stream = 64L * WanPresets.TINY.dim() * 4; // L x D fp32
        long held = six[0] - two[0];
        long peak = six[1] - two[1];
        System.out.printf("4 more checkpointed blocks: %d bytes more after the forward, %d more at the backward's "
                + "peak (one residual stream: %d bytes)%n", held, peak, stream);
        assertTrue(held >= 4 * stream && held <= 4 * stream + 4 * 1024,
                "held after the forward: " + held + " bytes for 4 blocks, expected 4 x " + stream);
        assertTrue(peak <= 5 * stream, "backward peak: " + peak + " bytes for 4 blocks, expected about 4 x " + stream);
    }

    /** Bytes held after the forward pass, and the peak over the whole step, of a checkpointed model of n blocks. */
    private static long[] heldAndPeak(int n) {
        WanConfig c = new WanConfig("2.1", 1, 2, 2, 4, 4, 64, 128, 4, n, 32, 32, 8, 1e-6, false, false);
        WanModel model = WanModel.load(c, new WanWeights(RandomWanWeights.of(c, 4), "random"));
        model.namedParameters().get("blocks.0.self_attn.q.weight").requiresGrad(true);
        model.setGradientCheckpointing(true);
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
