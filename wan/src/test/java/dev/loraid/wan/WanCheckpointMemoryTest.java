package dev.loraid.wan;

import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
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
        WanModel model = WanModel.load(c, new WanWeights(randomWeights(c), "random"));
        model.namedParameters().get("blocks.0.self_attn.q.weight").requiresGrad(true);
        model.setGradientCheckpointing(true);
        SplittableRandom rnd = new SplittableRandom(9);
        Tensor latent = random(rnd, LATENTS);
        Tensor context = random(rnd, 8, c.textDim());
        Tensor seed = random(rnd, LATENTS);
        MemoryScope.resetPeak(Device.CPU);
        try (MemoryScope step = MemoryScope.open()) {
            Var out = model.forward(Var.constant(latent), new double[] {500}, Var.constant(context), WanTaps.NONE);
            long held = step.bytesInUse(Device.CPU);
            out.backward(seed);
            return new long[] {held, MemoryScope.peakBytesInUse(Device.CPU)};
        }
    }

    /** Every weight of {@code c}: Linear weights N(0, 1/in), norms 1 + N(0, 0.1²), the rest N(0, 0.1²). */
    private static Map<String, Tensor> randomWeights(WanConfig c) {
        SplittableRandom rnd = new SplittableRandom(4);
        Map<String, Tensor> w = new LinkedHashMap<>();
        WanKeys.expectedShapes(c).forEach((key, shape) -> {
            boolean norm = key.contains("norm") && key.endsWith(".weight");
            double sd = key.endsWith(".weight") && shape.length == 2 && !norm ? 1 / Math.sqrt(shape[1]) : 0.1;
            Tensor t = random(rnd, shape);
            float[] v = t.toFloatArray();
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((norm ? 1 : 0) + sd * v[i]);
            }
            w.put(key, Tensor.of(v, shape));
        });
        return w;
    }

    private static Tensor random(SplittableRandom rnd, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return Tensor.of(v, shape).to(DType.F32);
    }
}
