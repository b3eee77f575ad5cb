package dev.loraid.core.train;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.optim.Optimizer;
import dev.loraid.autograd.optim.LrScheduler;
import dev.loraid.autograd.optim.LrSchedules;
import dev.loraid.core.Reporter;
import dev.loraid.core.data.TrainSample;
import dev.loraid.core.lora.LoraAdapter;
import dev.loraid.core.lora.LoraNetwork;
import dev.loraid.core.plan.ModuleSelector;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.testing.MaxAbs;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanKeys;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanTaps;
import dev.loraid.wan.WanWeights;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link TrainStep#accumulate} runs a micro-batch as one batched DiT call: its loss and LoRA gradients equal those of
 * the batch-1 path computed independently here — one {@link WanModel#forward} per sample (same noise stream, same
 * model input assembly), each sample's weighted loss backpropagated scaled by lossScale / B, the gradients summing —
 * with and without gradient checkpointing. Three samples with different σ, timesteps, loss weights and text lengths; T2V on the
 * golden tiny model, I2V (image conditioning channels and CLIP tokens) on a random tiny one. Every LoRA weight has
 * random values (up is zero at init, which would leave down without gradient).
 */
class TrainStepBatchTest {
    private static final long SEED = 5;
    private static final long MICRO = 3;
    private static final double LOSS_SCALE = 0.5;
    private static final Noising[] NOISINGS = {new Noising(0.9, 900, 1.0), new Noising(0.25, 250, 0.5),
            new Noising(0.6, 601, 2.0)};

    @ParameterizedTest
    @CsvSource({"false, false", "false, true", "true, false", "true, true"})
    void batchedStepEqualsPerSampleSteps(boolean i2v, boolean checkpointing) throws IOException {
        WanModel model = i2v ? randomI2v() : goldenTiny();
        model.setGradientCheckpointing(checkpointing);
        LoraNetwork net = LoraNetwork.create(model, new ModuleSelector(Optional.empty(), List.of(), List.of()), 4, 4,
                LoraAdapter.Dropouts.NONE, 1, Reporter.SILENT);
        Random rng = new Random(17);
        for (LoraAdapter a : net.loraAdapters().values()) {
            Tensor up = a.up().data();
            up.backend().copy(TrainerTest.gaussian(rng, 0.1, up.shape().toArray()).to(DType.F32), up);
        }
        Map<String, Parameter> params = net.trainableParameters();
        List<TrainSample> samples = samples(model.config(), rng);

        double batched = step(params).accumulate(model, samples, NOISINGS, SEED, MICRO, LOSS_SCALE);
        Map<String, double[]> batchedGrads = grads(params);
        params.values().forEach(Parameter::clearGrad);

        double perSample = 0;
        for (int i = 0; i < samples.size(); i++) {
            try (MemoryScope scope = MemoryScope.open()) {
                TrainSample s = samples.get(i);
                Noising n = NOISINGS[i];
                Var latents = Var.constant(TrainStep.onDevice(s.latents(), model.device()));
                Var eps = Var.constant(TrainStep.noise(latents.data(), RandomStreams.noise(SEED, MICRO, i)));
                Var pred = model.forward(TrainStep.modelInput(model, s, FlowMatching.noisy(latents, eps, n.sigma())),
                        new double[] {n.timestep()}, Var.constant(TrainStep.onDevice(s.t5(), model.device())),
                        TrainStep.clip(model, s), WanTaps.NONE);
                Var loss = FlowMatching.loss(pred, FlowMatching.target(latents, eps), n.weight());
                perSample += loss.data().toDoubleArray()[0] / samples.size();
                loss.backward(LOSS_SCALE / samples.size());
            }
        }
        Map<String, double[]> expected = grads(params);

        assertEquals(perSample, batched, 1e-6 * perSample, "micro-batch loss");
        assertTrue(expected.values().stream().allMatch(g -> MaxAbs.of(g) > 0), "every LoRA weight has a gradient");
        expected.forEach((name, want) -> {
            double[] got = batchedGrads.get(name);
            double scale = MaxAbs.of(want);
            for (int k = 0; k < want.length; k++) {
                assertEquals(want[k], got[k], 1e-5 * scale, name + " gradient at " + k + " (max |g| " + scale + ")");
            }
        });
    }

    @Test
    void aBatchOfTwoLatentShapesIsRefusedNamingTheItems() throws IOException {
        WanModel model = goldenTiny();
        Random rng = new Random(1);
        List<TrainSample> samples = List.of(
                new TrainSample("a", TrainerTest.gaussian(rng, 1, 4, 1, 4, 6), TrainerTest.gaussian(rng, 1, 3, 32), null, null, null),
                new TrainSample("b", TrainerTest.gaussian(rng, 1, 4, 2, 4, 6), TrainerTest.gaussian(rng, 1, 3, 32), null, null, null));
        LoraNetwork net = LoraNetwork.create(model, new ModuleSelector(Optional.empty(), List.of(), List.of()), 4, 4,
                LoraAdapter.Dropouts.NONE, 1, Reporter.SILENT);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> step(net.trainableParameters())
                .accumulate(model, samples, new Noising[] {NOISINGS[0], NOISINGS[1]}, SEED, MICRO, 1));
        assertEquals("one batch holds latents [4, 1, 4, 6] (item a) and [4, 2, 4, 6] (item b): the samples of a batch "
                + "must come from one bucket", e.getMessage());
    }

    private static TrainStep step(Map<String, Parameter> params) {
        OptimizerConfig oc = new OptimizerConfig("AdamW", List.of(), 1e-3, "constant", "0", "0", 1, 1.0, null, null, null, 1.0);
        Optimizer optimizer = Optimizers.of(params, oc, null);
        return new TrainStep(params.values(), optimizer, new LrScheduler(optimizer, LrSchedules.constant()), 1.0,
                GradientSync.LOCAL, null);
    }

    /** Three samples of one bucket: latents [4, F, 4, 6] (F = 2 for I2V, with its conditioning and CLIP tokens). */
    private static List<TrainSample> samples(WanConfig c, Random rng) {
        boolean i2v = c.imageBranch();
        long frames = i2v ? 2 : 1;
        long[] textLengths = {3, 8, 5};
        List<TrainSample> out = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            out.add(new TrainSample("item" + i, TrainerTest.gaussian(rng, 1, 4, frames, 4, 6).to(DType.BF16),
                    TrainerTest.gaussian(rng, 1, textLengths[i], 32).to(DType.BF16),
                    i2v ? TrainerTest.gaussian(rng, 1, 8, frames, 4, 6).to(DType.BF16) : null,
                    i2v ? TrainerTest.gaussian(rng, 1, WanConfig.CLIP_TOKENS, WanConfig.CLIP_DIM).to(DType.F16) : null,
                    null));
        }
        return out;
    }

    static WanModel goldenTiny() throws IOException {
        Map<String, Tensor> weights = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(TrainFixture.TINY)) {
            for (String n : f.names()) {
                weights.put(n, f.tensor(n).copy()); // owned copies: the file closes below
            }
        }
        return WanModel.load(WanPresets.TINY, new WanWeights(weights, TrainFixture.TINY.toString())).to(Device.CPU);
    }

    /** A random tiny Wan 2.1 I2V model (in_dim 12 = 4 noise + 8 conditioning channels, CLIP branch). */
    private static WanModel randomI2v() {
        Random rng = new Random(3);
        Map<String, Tensor> weights = new LinkedHashMap<>();
        WanKeys.expectedShapes(WanPresets.TINY_I2V).forEach((k, shape) ->
                weights.put(k, TrainerTest.gaussian(rng, 0.05, shape).to(DType.F32)));
        return WanModel.load(WanPresets.TINY_I2V, new WanWeights(weights, "random tiny i2v"));
    }

    private static Map<String, double[]> grads(Map<String, Parameter> params) {
        Map<String, double[]> out = new LinkedHashMap<>();
        params.forEach((name, p) -> out.put(name, p.grad().toDoubleArray()));
        return out;
    }
}
