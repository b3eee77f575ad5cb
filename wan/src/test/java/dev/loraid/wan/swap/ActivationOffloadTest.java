package dev.loraid.wan.swap;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.CopyStream;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.CheckpointedStepMemory;
import dev.loraid.wan.RandomWanWeights;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanTaps;
import dev.loraid.wan.WanWeights;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static dev.loraid.wan.CheckpointedStepMemory.STREAM;
import static dev.loraid.wan.CheckpointedStepMemory.heldAndPeak;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --gradient_checkpointing_cpu_offload} on the CPU's synchronous copy stream: the gradients are the same bits as
 * with the inputs kept (over two steps, the second reusing the host buffers), while each input left behind is filled
 * with NaN before its memory is given back, so a recomputation that read it instead of the copy brought back would show;
 * and the step's scoped memory no longer grows with the number of blocks.
 */
class ActivationOffloadTest {
    private static final long[] LATENTS = {4, 1, 16, 16}; // L = 64 tokens

    @Test
    void theGradientsAreTheSameBitsWithTheInputsInHostMemory() {
        WanConfig c = CheckpointedStepMemory.config(4);
        Map<String, Tensor> weights = RandomWanWeights.of(c, 4);
        List<float[]> kept = steps(c, weights, null);
        List<float[]> offloaded = steps(c, weights, new ActivationOffload(CopyStream.SYNCHRONOUS, true));
        assertEquals(kept.size(), offloaded.size());
        for (int i = 0; i < kept.size(); i++) {
            assertArrayEquals(kept.get(i), offloaded.get(i), 0f, "gradient " + i);
        }
    }

    /** Two checkpointed steps; after each, the latent's gradient and those of the weights made trainable. */
    private static List<float[]> steps(WanConfig c, Map<String, Tensor> weights, ActivationOffload offload) {
        WanModel model = WanModel.load(c, new WanWeights(weights, "random"));
        List<Parameter> trainable = new ArrayList<>();
        for (int b = 0; b < c.numLayers(); b++) {
            trainable.add(model.namedParameters().get("blocks." + b + ".self_attn.q.weight").requiresGrad(true));
        }
        trainable.add(model.namedParameters().get("blocks.2.ffn.0.weight").requiresGrad(true));
        model.setGradientCheckpointing(true);
        model.setCheckpointOffload(offload);
        SplittableRandom rnd = new SplittableRandom(9);
        List<float[]> grads = new ArrayList<>();
        for (int step = 0; step < 2; step++) {
            Tensor latent = RandomWanWeights.gaussian(rnd, LATENTS);
            Tensor context = RandomWanWeights.gaussian(rnd, 8, c.textDim());
            Tensor seed = RandomWanWeights.gaussian(rnd, LATENTS);
            trainable.forEach(Parameter::clearGrad);
            try (MemoryScope s = MemoryScope.open()) {
                Var x = Var.leaf(latent);
                model.forward(x, new double[] {300 + 200 * step}, Var.constant(context), WanTaps.NONE).backward(seed);
                grads.add(x.grad().toFloatArray());
            }
            trainable.forEach(p -> grads.add(p.grad().toFloatArray()));
        }
        return grads;
    }

    @Test
    void theStepsMemoryNoLongerGrowsWithTheBlocks() {
        long[] two = heldAndPeak(2, m -> m.setCheckpointOffload(new ActivationOffload(CopyStream.SYNCHRONOUS, false)));
        long[] six = heldAndPeak(6, m -> m.setCheckpointOffload(new ActivationOffload(CopyStream.SYNCHRONOUS, false)));
        System.out.printf("4 more blocks with their inputs in host memory: %d bytes more after the forward, %d more at "
                + "the peak (a residual stream: %d bytes)%n", six[0] - two[0], six[1] - two[1], STREAM);
        assertTrue(six[0] - two[0] < STREAM, "after the forward: " + (six[0] - two[0]) + " bytes more for 4 more blocks");
        assertTrue(six[1] - two[1] < STREAM, "at the peak: " + (six[1] - two[1]) + " bytes more for 4 more blocks");
    }
}
