package dev.loraid.core.train;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraAdapter;
import dev.loraid.core.lora.LoraNetwork;
import dev.loraid.core.plan.ModuleSelector;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.testing.MaxAbs;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanTaps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --mixed_precision bf16} trains the LoRA like fp32 does: the model's activations are bf16
 * ({@link WanModel#setActivationDType}), the LoRA weights, their gradients and the optimizer state stay fp32.
 */
class MixedPrecisionTrainingTest {
    /**
     * The LoRA gradients of one flow-matching loss, bf16 activations against fp32, on the golden tiny model with every
     * LoRA weight random (up is zero at init). Each gradient is a sum over tokens of products of bf16-rounded
     * activations (relative error ~2⁻⁹ each, mostly independent), so its direction barely moves: cosine > 0.99 for
     * every tensor (the small gradients of the first block's projections, furthest from the loss, move most: 0.997
     * measured) and > 0.999 for all of them together; the gradients stay F32 tensors.
     */
    @Test
    void loraGradientsInBf16AgreeWithFp32() throws Exception {
        WanModel model = TrainStepBatchTest.goldenTiny();
        LoraNetwork net = LoraNetwork.create(model, new ModuleSelector(Optional.empty(), List.of(), List.of()), 4, 4,
                LoraAdapter.Dropouts.NONE, 1, Reporter.SILENT);
        Random rng = new Random(23);
        for (LoraAdapter a : net.loraAdapters().values()) {
            Tensor up = a.up().data();
            up.backend().copy(TrainerTest.gaussian(rng, 0.1, up.shape().toArray()).to(DType.F32), up);
        }
        Map<String, Parameter> params = net.trainableParameters();
        Tensor latent = TrainerTest.gaussian(rng, 1, 4, 1, 4, 6).to(DType.F32);
        Tensor target = TrainerTest.gaussian(rng, 1, 4, 1, 4, 6).to(DType.F32);
        Tensor context = TrainerTest.gaussian(rng, 1, 5, 32).to(DType.F32);

        Map<String, double[]> fp32 = gradients(model, params, latent, target, context);
        model.setActivationDType(DType.BF16);
        Map<String, double[]> bf16 = gradients(model, params, latent, target, context);
        params.values().forEach(p -> assertEquals(DType.F32, p.data().dtype(), "LoRA weights stay F32"));

        double worst = 1;
        for (Map.Entry<String, double[]> e : fp32.entrySet()) {
            double[] want = e.getValue();
            double[] got = bf16.get(e.getKey());
            double cos = cosine(want, got);
            worst = Math.min(worst, cos);
            assertTrue(cos > 0.99, e.getKey() + ": cosine " + cos + " between the bf16 and fp32 gradients");
            assertNotEquals(0, MaxAbs.ofDifference(want, got), e.getKey() + ": the bf16 gradient equals the fp32 one bit for bit");
        }
        double all = cosine(concat(fp32), concat(bf16));
        System.out.printf("bf16 vs fp32 LoRA gradients: worst cosine %.6f over %d tensors, all together %.6f%n", worst,
                fp32.size(), all);
        assertTrue(all > 0.999, "cosine of all LoRA gradients together " + all);
    }

    /**
     * 60 steps on the tiny training set, fp32 and bf16 (fp16) with the same seed (same batches, timesteps and noise):
     * the half run's losses differ from fp32's (its activations are half precision) but stay within 2% step by step,
     * its loss falls as far, and its LoRA records {@code ss_mixed_precision} and holds F32 weights.
     */
    @ParameterizedTest
    @EnumSource(value = MixedPrecision.class, names = {"BF16", "FP16"})
    void halfPrecisionTrainingLowersTheLossLikeFp32(MixedPrecision mixed, @TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 4, 2);
        TrainerTest.Losses fp32 = new TrainerTest.Losses();
        Trainer.run(TrainFixture.config(toml, dir.resolve("fp32"), "run", 60, TrainFixture.network(4, null, 12), null, null), fp32);
        TrainerTest.Losses half = new TrainerTest.Losses();
        Trainer.Result r = Trainer.run(withMixedPrecision(mixed, TrainFixture.config(toml, dir.resolve("bf16"), "run", 60,
                TrainFixture.network(4, null, 12), null, null)), half);

        assertNotEquals(fp32.losses, half.losses, mixed + " losses equal fp32's: the half path did not run");
        for (int i = 0; i < 60; i++) {
            double a = fp32.losses.get(i);
            double b = half.losses.get(i);
            assertTrue(Math.abs(a - b) < 0.02 * a, "step " + i + ": " + mixed + " loss " + b + " vs fp32 " + a);
        }
        double fall32 = fp32.mean(0, 15) / fp32.mean(45, 60);
        double fallHalf = half.mean(0, 15) / half.mean(45, 60);
        System.out.printf("loss first 15 / last 15 steps: fp32 %.4f, %s %.4f%n", fall32, mixed, fallHalf);
        assertTrue(fall32 > 1.2, "fp32 loss falls: " + fall32);
        assertEquals(fall32, fallHalf, 0.02 * fall32, "the " + mixed + " loss falls as far as fp32's");
        try (SafetensorsFile f = SafetensorsFile.open(r.lora())) {
            assertEquals(mixed.flagValue(), f.metadata().get("ss_mixed_precision"));
            for (String n : f.names()) {
                if (!n.endsWith(".alpha")) {
                    assertEquals(DType.F32, f.tensor(n).dtype(), n);
                }
            }
        }
    }

    private static TrainConfig withMixedPrecision(MixedPrecision mixed, TrainConfig c) {
        return new TrainConfig(c.dit(), c.ditHighNoise(), c.timestepBoundary(), c.offloadInactiveDit(), c.task(), c.datasetConfig(),
                c.workingDir(), c.device(), mixed, c.gradientCheckpointing(), c.network(), c.optimizer(), c.timesteps(),
                c.maxTrainSteps(), c.maxTrainEpochs(), c.gradientAccumulationSteps(), c.seed(), c.save(), c.validation(), c.resume(),
                c.vae(), c.sampling(), c.fp8());
    }

    /** The LoRA gradients of the flow-matching loss at σ 0.6 (t = 600) for one sample, from zero. */
    private static Map<String, double[]> gradients(WanModel model, Map<String, Parameter> params, Tensor latent, Tensor target,
                                                   Tensor context) {
        params.values().forEach(Parameter::clearGrad);
        try (MemoryScope scope = MemoryScope.open()) {
            Var pred = model.forward(Var.constant(latent), new double[] {600}, Var.constant(context), WanTaps.NONE);
            FlowMatching.loss(pred, Var.constant(target), 1.0).backward(1.0);
        }
        Map<String, double[]> out = new LinkedHashMap<>();
        params.forEach((name, p) -> {
            assertEquals(DType.F32, p.grad().dtype(), name + " gradient dtype");
            out.put(name, p.grad().toDoubleArray());
        });
        return out;
    }

    private static double[] concat(Map<String, double[]> grads) {
        return grads.values().stream().flatMapToDouble(Arrays::stream).toArray();
    }

    private static double cosine(double[] a, double[] b) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }
}
