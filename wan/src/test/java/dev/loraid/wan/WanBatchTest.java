package dev.loraid.wan;

import dev.loraid.autograd.GradMode;
import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.testing.TestDevice;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link WanModel#forwardBatch} (B samples of one bucket in one call) against B calls of the batch-1 forward on the
 * same inputs, computed independently: the outputs, and the gradients of {@code Σ_b out_b·R_b} with respect to
 * every latent, every context and four trainable weights (summed over the samples), with and without gradient
 * checkpointing. Three samples with different timesteps (on the 2.2 path one of them per token, frame 0 at t = 0)
 * and different context lengths (3, text_len, 5); the 2.1 I2V case adds the conditioning channels and CLIP tokens.
 */
class WanBatchTest {
    private static final long[] CONTEXT_LENGTHS = {3, 8, 5};
    private static final String[] TRAINABLE = {"blocks.0.modulation", "blocks.1.self_attn.k.weight",
            "blocks.2.cross_attn.q.weight", "blocks.3.ffn.0.weight"};

    /** One sample's inputs: latent [in_dim, 2, 4, 6], timesteps, context [len, 32], CLIP tokens or null. */
    private record Sample(Tensor latent, double[] t, Tensor context, Tensor clip) {
    }

    @ParameterizedTest
    @CsvSource({"tiny, F32", "tiny, F64", "tiny-v22, F32", "tiny-v22, F64"})
    void batchedForwardEqualsPerSampleForwards(String variant, DType type) throws IOException {
        WanConfig config = WanPresets.get(variant).config();
        WanModel model = goldenModel(config, type);
        List<Sample> samples = samples(config, type, 1);
        double tol = type == DType.F64 ? 1e-12 : 1e-5;
        try (GradMode.Scope noGrad = GradMode.noGrad(); MemoryScope scope = MemoryScope.open()) {
            Var out = model.forwardBatch(Var.constant(latents(samples)), times(samples), contexts(samples, false),
                    null);
            assertEquals(List.of(3L, 4L, 2L, 4L, 6L), Arrays.stream(out.shape().toArray()).boxed().toList());
            for (int i = 0; i < samples.size(); i++) {
                Sample s = samples.get(i);
                Tensor one = model.forward(Var.constant(s.latent()), s.t(), Var.constant(s.context()), null,
                        WanTaps.NONE).data();
                Golden.assertClose(variant + " " + type + " sample " + i, one, out.data().narrow(0, i, 1).squeeze(0),
                        tol, tol);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void batchedGradientsEqualTheSumOfPerSampleGradients(boolean checkpointing) throws IOException {
        WanConfig config = WanPresets.TINY_V22;
        WanModel model = goldenModel(config, DType.F64);
        model.setGradientCheckpointing(checkpointing);
        List<Parameter> params = Arrays.stream(TRAINABLE).map(n -> model.namedParameters().get(n).requiresGrad(true))
                .toList();
        List<Sample> samples = samples(config, DType.F64, 2);
        Random rng = new Random(9);
        List<Tensor> seeds = new ArrayList<>();
        for (int i = 0; i < samples.size(); i++) {
            seeds.add(random(rng, DType.F64, 4, 2, 4, 6).to(model.device()));
        }
        try (MemoryScope scope = MemoryScope.open()) {
            // independently: one batch-1 forward and backward per sample, the weight gradients accumulating
            List<double[]> latentGrads = new ArrayList<>();
            List<double[]> contextGrads = new ArrayList<>();
            for (int i = 0; i < samples.size(); i++) {
                Sample s = samples.get(i);
                Var x = Var.leaf(s.latent());
                Var ctx = Var.leaf(s.context());
                model.forward(x, s.t(), ctx, null, WanTaps.NONE).backward(seeds.get(i));
                latentGrads.add(x.grad().toDoubleArray());
                contextGrads.add(ctx.grad().toDoubleArray());
            }
            List<double[]> weightGrads = params.stream().map(p -> p.grad().toDoubleArray()).toList();
            params.forEach(Var::clearGrad);

            Var x = Var.leaf(latents(samples));
            List<Var> ctx = contexts(samples, true);
            Var out = model.forwardBatch(x, times(samples), ctx, null);
            out.backward(stack(seeds));
            for (int i = 0; i < samples.size(); i++) {
                assertClose("latent " + i, latentGrads.get(i), x.grad().narrow(0, i, 1).toDoubleArray());
                assertClose("context " + i, contextGrads.get(i), ctx.get(i).grad().toDoubleArray());
            }
            for (int p = 0; p < params.size(); p++) {
                assertClose(TRAINABLE[p], weightGrads.get(p), params.get(p).grad().toDoubleArray());
            }
        }
    }

    @Test
    void imageBranchBatchEqualsPerSampleForwards() {
        WanConfig config = WanPresets.TINY_I2V;
        WanModel model = WanModel.load(config, new WanWeights(ImageBranchTest.randomWeights(config, 21), "random i2v"))
                .to(TestDevice.get());
        List<Sample> samples = samples(config, DType.F32, 3);
        try (GradMode.Scope noGrad = GradMode.noGrad(); MemoryScope scope = MemoryScope.open()) {
            List<Var> clips = samples.stream().map(s -> Var.constant(s.clip())).toList();
            Var out = model.forwardBatch(Var.constant(latents(samples)), times(samples), contexts(samples, false), clips);
            for (int i = 0; i < samples.size(); i++) {
                Sample s = samples.get(i);
                Tensor one = model.forward(Var.constant(s.latent()), s.t(), Var.constant(s.context()),
                        Var.constant(s.clip()), WanTaps.NONE).data();
                Golden.assertClose("i2v sample " + i, one, out.data().narrow(0, i, 1).squeeze(0), 1e-5, 1e-5);
            }
        }
    }

    @Test
    void aBatchNamesWhatDoesNotMatch() throws IOException {
        WanModel model = goldenModel(WanPresets.TINY, DType.F32);
        List<Sample> samples = samples(WanPresets.TINY, DType.F32, 4);
        Var latents = Var.constant(latents(samples));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.forwardBatch(latents, Arrays.copyOf(times(samples), 2), contexts(samples, false), null));
        assertTrue(e.getMessage().contains("timestep arrays (got 2)"), e.getMessage());
        double[][] t = times(samples);
        t[1] = new double[] {1, 2, 3};
        e = assertThrows(IllegalArgumentException.class, () -> model.forwardBatch(latents, t, contexts(samples, false), null));
        assertTrue(e.getMessage().startsWith("t[1] has 3 timesteps: expected 1 or one per token (12)"), e.getMessage());
    }

    /** The golden tiny weights (config A) in {@code type}, on {@link TestDevice}. */
    private static WanModel goldenModel(WanConfig config, DType type) throws IOException {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        try (SafetensorsFile w = Golden.open("wan_tiny_weights.safetensors")) {
            for (String n : w.names()) {
                Tensor t = w.tensor(n);
                weights.put(n, t.dtype() == type ? t.copy() : t.to(type)); // owned: the file closes below
            }
        }
        return WanModel.load(config, new WanWeights(weights, "wan_tiny_weights (" + type + ")")).to(TestDevice.get());
    }

    /**
     * Three random samples on {@link TestDevice}: timesteps 900, 250 and 600 — the last one per token with frame 0 at
     * t = 0 on the 2.2 path (12 tokens, 6 per frame) — contexts of {@link #CONTEXT_LENGTHS} rows, CLIP tokens for the
     * image branch.
     */
    private static List<Sample> samples(WanConfig config, DType type, long seed) {
        Random rng = new Random(seed);
        Device device = TestDevice.get();
        double[] perToken = new double[12];
        Arrays.fill(perToken, 6, 12, 600);
        double[][] t = {{900}, {250}, config.perTokenTime() ? perToken : new double[] {600}};
        List<Sample> out = new ArrayList<>();
        for (int i = 0; i < t.length; i++) {
            Tensor clip = config.imageBranch()
                    ? random(rng, type, WanConfig.CLIP_TOKENS, WanConfig.CLIP_DIM).to(device) : null;
            out.add(new Sample(random(rng, type, config.inDim(), 2, 4, 6).to(device), t[i],
                    random(rng, type, CONTEXT_LENGTHS[i], config.textDim()).to(device), clip));
        }
        return out;
    }

    private static Tensor latents(List<Sample> samples) {
        return stack(samples.stream().map(Sample::latent).toList());
    }

    /** [x0, x1, …] → [B, …], outside the test's memory scope. */
    private static Tensor stack(List<Tensor> xs) {
        try (GradMode.Scope noGrad = GradMode.noGrad(); MemoryScope keep = MemoryScope.suspend()) {
            return Ops.concat(xs.stream().map(x -> Var.constant(x.unsqueeze(0))).toList(), 0).data();
        }
    }

    private static double[][] times(List<Sample> samples) {
        return samples.stream().map(Sample::t).toArray(double[][]::new);
    }

    private static List<Var> contexts(List<Sample> samples, boolean leaves) {
        return samples.stream().map(s -> leaves ? Var.leaf(s.context()) : Var.constant(s.context())).toList();
    }

    private static void assertClose(String what, double[] expected, double[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-11 + 1e-9 * Math.abs(expected[i]), what + " gradient at " + i);
        }
    }

    private static Tensor random(Random rng, DType type, long... dims) {
        double[] v = new double[Math.toIntExact(dev.loraid.tensor.Shape.of(dims).numel())];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextGaussian();
        }
        return Tensor.ofDoubles(v, dims).to(type);
    }
}
