package dev.loraid.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.optim.Adafactor;
import dev.loraid.autograd.optim.AdamW;
import dev.loraid.autograd.optim.Lion;
import dev.loraid.autograd.optim.Optimizer;
import dev.loraid.autograd.optim.Prodigy;
import dev.loraid.autograd.optim.ScheduleFreeAdamW;
import dev.loraid.core.CollectingReporter;
import dev.loraid.core.ParameterException;
import dev.loraid.core.lora.LoraAdapter;
import dev.loraid.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The small pieces of a run: network args, the optimizer's groups and args, the max-norm regulariser. */
class TrainPartsTest {

    @Test
    void network_args_parse_python_lists_and_reject_what_upstream_would_not_take() {
        CollectingReporter r = new CollectingReporter();
        NetworkArgs a = NetworkArgs.parse(List.of("exclude_patterns=['.*']", "include_patterns=[r'blocks\\.1\\..*', \"x'y\"]",
                "rank_dropout=0.1", "module_dropout=0.2", "loraplus_lr_ratio=4", "verbose=True", "conv_dim=4"), r);
        assertEquals(List.of(".*"), a.excludePatterns());
        assertEquals(0.1, a.rankDropout());
        assertEquals(0.2, a.moduleDropout());
        assertEquals(4.0, a.loraPlusLrRatio());
        assertTrue(a.verbose());
        assertTrue(r.warned("conv_dim is ignored"));
        assertEquals("['.*']", a.raw().get("exclude_patterns"));
        assertThrows(IllegalArgumentException.class, () -> NetworkArgs.parse(List.of("rank_dropout"), r));
        assertThrows(IllegalArgumentException.class, () -> NetworkArgs.parse(List.of("a=b=c"), r));
        assertThrows(IllegalArgumentException.class, () -> NetworkArgs.parse(List.of("bogus=1"), r));
        assertThrows(IllegalArgumentException.class, () -> NetworkArgs.parse(List.of("include_patterns=blocks"), r));
    }

    @Test
    void python_string_lists_keep_unknown_escapes_as_python_does() {
        assertEquals(List.of("blocks\\.1\\..*", "a'b", "c\\d"),
                NetworkArgs.pythonStringList("k", "['blocks\\.1\\..*', 'a\\'b', \"c\\\\d\"]"));
        assertEquals(List.of(), NetworkArgs.pythonStringList("k", "[ ]"));
    }

    @Test
    void lora_plus_puts_the_up_weights_in_a_group_at_ratio_times_the_rate_and_optimizer_args_apply() {
        Map<String, Parameter> params = new LinkedHashMap<>();
        params.put("m.lora_down.weight", Parameter.trainable(Tensor.of(new float[] {1, 2}, 1, 2)));
        params.put("m.lora_up.weight", Parameter.trainable(Tensor.of(new float[] {3, 4}, 2, 1)));
        OptimizerConfig c = new OptimizerConfig("AdamW", List.of("weight_decay=0.1", "betas=(0.8, 0.99)", "eps=1e-6"), 1e-3, "constant",
                "0", "0", 1, 1, null, null, null, 1);
        Optimizer plus = Optimizers.of(params, c, 16.0);
        assertEquals(2, plus.groups().size());
        assertEquals(List.of("m.lora_down.weight"), List.copyOf(plus.groups().get(0).params().keySet()));
        assertEquals(1.6e-2, plus.groups().get(1).lr(), 1e-15);
        assertEquals(0.1, plus.groups().get(1).weightDecay());
        assertEquals(1, Optimizers.of(params, c, null).groups().size());
        assertThrows(IllegalArgumentException.class, () -> Optimizers.of(params, new OptimizerConfig("AdamW", List.of("momentum=0.9"),
                1e-3, "constant", "0", "0", 1, 1, null, null, null, 1), null));
        for (String name : List.of("AdamW8bit", "adamw8bit", "bitsandbytes.optim.AdamW8bit", "bitsandbytes.optim.adamw.AdamW8bit")) {
            OptimizerConfig eightBit = new OptimizerConfig(name, List.of(), 1e-3, "constant", "0", "0", 1, 1, null, null, null, 1);
            assertTrue(eightBit.eightBit(), name);
            AdamW made = (AdamW) Optimizers.of(params, eightBit, null);
            assertFalse(made.quantizes(params.get("m.lora_up.weight")), "2 elements keep fp32 moments");
        }
        assertFalse(c.eightBit());
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class, () -> new OptimizerConfig("AdEMAMix8bit",
                List.of(), 1e-3, "constant", "0", "0", 1, 1, null, null, null, 1));
        assertTrue(other.getMessage().contains("AdEMAMix8bit is not supported (supported: AdamW, AdamW8bit, PagedAdamW8bit, Adafactor"), other.getMessage());
    }

    /**
     * --optimizer_type Adafactor (training.md §3.1): transformers' defaults, upstream's handling of relative_step and
     * warmup_init, the schedule it forces, and refusals naming the argument.
     */
    @Test
    void adafactor_arguments_follow_upstream() {
        OptimizerConfig plain = adafactor(List.of(), "constant");
        assertEquals(OptimizerConfig.Kind.ADAFACTOR, plain.kind());
        assertEquals(Adafactor.Settings.defaults(), Optimizers.adafactorSettings(plain.args()));
        assertTrue(plain.relativeSteps());
        assertEquals("adafactor:2.0E-4", plain.schedulerName(), "upstream replaces --lr_scheduler by adafactor:<lr>");
        OptimizerConfig manual = adafactor(List.of("relative_step=False", "scale_parameter=False", "warmup_init=False",
                "eps=(1e-30, 2e-3)", "clip_threshold=1.5", "decay_rate=-0.5", "beta1=0.9", "weight_decay=0.01"), "cosine");
        assertEquals(new Adafactor.Settings(1e-30, 2e-3, 1.5, -0.5, 0.9, 0.01, false, false, false),
                Optimizers.adafactorSettings(manual.args()));
        assertFalse(manual.relativeSteps());
        assertEquals("cosine", manual.schedulerName());
        assertTrue(Optimizers.adafactorSettings(List.of("relative_step=False", "warmup_init=True")).relativeStep(),
                "upstream turns relative_step on for warmup_init");
        assertEquals(null, Optimizers.adafactorSettings(List.of("beta1=None")).beta1());

        Map<String, Parameter> params = new LinkedHashMap<>();
        params.put("m.lora_down.weight", Parameter.trainable(Tensor.of(new float[] {1, 2}, 1, 2)));
        assertTrue(Optimizers.of(params, manual, null) instanceof Adafactor);
        CollectingReporter advice = new CollectingReporter();
        Optimizers.describe(Optimizers.of(params, manual, null), manual, params.values(), advice);
        assertTrue(advice.warned("OptimizerConfig.maxGradNorm 1.0 clips gradients too; upstream suggests 0")
                && advice.warned("OptimizerConfig.scheduler constant_with_warmup") && advice.warned("clip_threshold=1.0"),
                advice.warnings.toString());
        CollectingReporter relative = new CollectingReporter();
        Optimizers.describe(Optimizers.of(params, plain, null), plain, params.values(), relative);
        assertTrue(relative.warnings.isEmpty() && relative.infos.getFirst().contains("min(1e-2, 1/√t) · max(0.001, RMS(p))"),
                relative.infos.toString());

        for (var bad : Map.of("lr=1e-3", "not an optimizer argument", "relative_step=true", "expected True or False",
                "momentum=0.9", "Adafactor takes eps", "decay_rate=0.8", "must be < 0", "eps=1e-30", "expected a pair",
                "beta1=1.0", "in [0, 1) or None").entrySet()) {
            ParameterException e = assertThrows(ParameterException.class, () -> adafactor(List.of(bad.getKey()), "constant"));
            assertTrue(e.getMessage().contains(bad.getValue()), bad.getKey() + ": " + e.getMessage());
        }
        ParameterException own = assertThrows(ParameterException.class, () -> new OptimizerConfig("AdamW", List.of(), 2e-4,
                "adafactor", "0", "0", 1, 1, null, null, null, 1));
        assertTrue(own.getMessage().contains("Adafactor's own schedule"), own.getMessage());
        assertThrows(ParameterException.class, () -> adafactor(List.of("relative_step=False"), "adafactor"));
    }

    /** --optimizer_type prodigyopt.Prodigy (or kohya's "Prodigy"): prodigyopt 1.1.2's defaults and arguments, refusals. */
    @Test
    void prodigy_arguments_follow_prodigyopt() {
        for (String name : List.of("prodigyopt.Prodigy", "Prodigy", "prodigyopt.prodigy.Prodigy")) {
            assertEquals(OptimizerConfig.Kind.PRODIGY, prodigy(name, List.of(), 1.0).kind(), name);
        }
        assertEquals(Prodigy.Settings.defaults(), Optimizers.prodigySettings(List.of()));
        assertEquals(new Prodigy.Settings(0.9, 0.99, 0.5, 1e-6, 0.01, false, true, true, 1e-5, 2.0, 1.02, 11),
                Optimizers.prodigySettings(List.of("betas=(0.9, 0.99)", "beta3=0.5", "eps=1e-6", "weight_decay=0.01",
                        "decouple=False", "use_bias_correction=True", "safeguard_warmup=True", "d0=1e-5", "d_coef=2",
                        "growth_rate=1.02", "slice_p=11", "fsdp_in_use=False")));
        assertEquals(Double.POSITIVE_INFINITY, Optimizers.prodigySettings(List.of("growth_rate=float('inf')")).growthRate());
        for (var bad : Map.of("d0=0", "must be > 0", "fsdp_in_use=True", "FSDP does not apply", "lr=1", "Prodigy takes betas",
                "growth_rate=0.5", "≥ 1 or inf", "slice_p=0", "an integer ≥ 1").entrySet()) {
            ParameterException e = assertThrows(ParameterException.class, () -> prodigy("prodigyopt.Prodigy",
                    List.of(bad.getKey()), 1.0));
            assertTrue(e.getMessage().contains(bad.getValue()), bad.getKey() + ": " + e.getMessage());
        }
        Map<String, Parameter> params = new LinkedHashMap<>();
        params.put("m.lora_down.weight", Parameter.trainable(Tensor.of(new float[] {1, 2}, 1, 2)));
        params.put("m.lora_up.weight", Parameter.trainable(Tensor.of(new float[] {3, 4}, 2, 1)));
        ParameterException plus = assertThrows(ParameterException.class, () -> Optimizers.of(params,
                prodigy("Prodigy", List.of(), 1.0), 16.0));
        assertTrue(plus.getMessage().contains("loraplus_lr_ratio"), plus.getMessage());
        OptimizerConfig small = prodigy("Prodigy", List.of(), 1e-4);
        CollectingReporter r = new CollectingReporter();
        Optimizers.describe(Optimizers.of(params, small, null), small, params.values(), r);
        assertTrue(r.warned("prodigyopt's advice is 1.0"), r.warnings.toString());
        assertEquals("prodigyopt.prodigy.Prodigy(d_coef=2)", TrainMetadata.optimizerName(prodigy("Prodigy", List.of("d_coef=2"), 1.0)));
    }

    /** --optimizer_type schedulefree.AdamWScheduleFree: its arguments, upstream's dummy scheduler, refusals. */
    @Test
    void schedule_free_arguments_follow_schedulefree() {
        for (String name : List.of("schedulefree.AdamWScheduleFree", "AdamWScheduleFree")) {
            assertEquals(OptimizerConfig.Kind.SCHEDULE_FREE, prodigy(name, List.of(), 1e-3).kind(), name);
        }
        assertEquals(new ScheduleFreeAdamW.Settings(0.95, 0.99, 1e-6, 0.01, 100, 1.0, 0.0, 0.9), Optimizers.scheduleFreeSettings(
                List.of("betas=(0.95,0.99)", "eps=1e-6", "weight_decay=0.01", "warmup_steps=100", "r=1.0", "weight_lr_power=0",
                        "inner_momentum=0.9", "foreach=False")));
        OptimizerConfig cosine = new OptimizerConfig("AdamWScheduleFree", List.of(), 1e-3, "cosine", "10", "0", 1, 1, null, null,
                null, 1);
        assertEquals("schedulefree", cosine.schedulerName(), "upstream's dummy scheduler replaces the schedule");
        Map<String, Parameter> params = new LinkedHashMap<>();
        params.put("m.lora_down.weight", Parameter.trainable(Tensor.of(new float[] {1, 2}, 1, 2)));
        CollectingReporter r = new CollectingReporter();
        Optimizers.describe(Optimizers.of(params, cosine, null), cosine, params.values(), r);
        assertTrue(r.warned("OptimizerConfig.scheduler cosine and OptimizerConfig.warmupSteps 10 are ignored"), r.warnings.toString());
        for (var bad : Map.of("warmup_steps=2.5", "an integer ≥ 0", "betas=(0,0.999)", "beta1 > 0", "lr=1", "AdamWScheduleFree takes")
                .entrySet()) {
            ParameterException e = assertThrows(ParameterException.class, () -> prodigy("AdamWScheduleFree", List.of(bad.getKey()), 1e-3));
            assertTrue(e.getMessage().contains(bad.getValue()), bad.getKey() + ": " + e.getMessage());
        }
    }

    /** lion_pytorch.Lion (or "Lion") and bitsandbytes' PagedAdamW8bit (AdamW8bit's step) by their names, with their metadata. */
    @Test
    void lion_and_paged_adamw8bit_by_their_names() {
        for (String name : List.of("lion_pytorch.Lion", "Lion", "lion_pytorch.lion_pytorch.Lion")) {
            assertEquals(OptimizerConfig.Kind.LION, prodigy(name, List.of(), 1e-4).kind(), name);
        }
        assertEquals(new Optimizers.LionArgs(0.95, 0.98, 0.1, true), Optimizers.LionArgs.parse(List.of("betas=(0.95, 0.98)",
                "weight_decay=0.1", "decoupled_weight_decay=True", "use_triton=False")));
        Map<String, Parameter> params = new LinkedHashMap<>();
        params.put("m.lora_down.weight", Parameter.trainable(Tensor.of(new float[] {1, 2}, 1, 2)));
        assertTrue(Optimizers.of(params, prodigy("Lion", List.of(), 1e-4), null) instanceof Lion);
        assertEquals("lion_pytorch.lion_pytorch.Lion(weight_decay=0.1)", TrainMetadata.optimizerName(prodigy("Lion",
                List.of("weight_decay=0.1"), 1e-4)));
        ParameterException bad = assertThrows(ParameterException.class, () -> prodigy("Lion", List.of("eps=1e-8"), 1e-4));
        assertTrue(bad.getMessage().contains("Lion takes betas, weight_decay, decoupled_weight_decay, use_triton"), bad.getMessage());
        OptimizerConfig paged = prodigy("bitsandbytes.optim.PagedAdamW8bit", List.of(), 1e-4);
        assertTrue(paged.eightBit());
        assertEquals("bitsandbytes.optim.adamw.PagedAdamW8bit", TrainMetadata.optimizerName(paged));
        CollectingReporter r = new CollectingReporter();
        Optimizers.describe(Optimizers.of(params, paged, null), paged, params.values(), r);
        assertTrue(r.infos.getFirst().contains("not CUDA unified memory"), r.infos.toString());
    }

    private static OptimizerConfig prodigy(String name, List<String> args, double lr) {
        return new OptimizerConfig(name, args, lr, "constant", "0", "0", 1, 1, null, null, null, 1);
    }

    private static OptimizerConfig adafactor(List<String> args, String scheduler) {
        return new OptimizerConfig("adafactor", args, 2e-4, scheduler, "0", "0", 1, 1, null, null, null, 1);
    }

    @Test
    void the_gram_norm_of_up_times_down_equals_the_norm_of_the_product() {
        SplittableRandom r = new SplittableRandom(5);
        int out = 7;
        int rank = 3;
        int in = 5;
        float[] up = new float[out * rank];
        float[] down = new float[rank * in];
        for (int i = 0; i < up.length; i++) {
            up[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < down.length; i++) {
            down[i] = (float) r.nextGaussian();
        }
        double direct = 0;
        for (int o = 0; o < out; o++) {
            for (int k = 0; k < in; k++) {
                double s = 0;
                for (int j = 0; j < rank; j++) {
                    s += (double) up[o * rank + j] * down[j * in + k];
                }
                direct += s * s;
            }
        }
        assertEquals(Math.sqrt(direct), MaxNormRegularizer.frobeniusOfProduct(Tensor.of(up, out, rank), Tensor.of(down, rank, in), rank),
                1e-9 * Math.sqrt(direct));
    }

    @Test
    void max_norm_scales_only_modules_above_the_limit_to_exactly_the_limit() {
        // ΔW = scale · up · down with up = [[2], [0]], down = [[3, 4]], alpha 1 / rank 1: ‖ΔW‖ = 2 · 5 = 10
        LoraAdapter big = new LoraAdapter("big", Parameter.trainable(Tensor.of(new float[] {3, 4}, 1, 2)),
                Parameter.trainable(Tensor.of(new float[] {2, 0}, 2, 1)), 1, LoraAdapter.Dropouts.NONE);
        // ‖ΔW‖ = 0.5 · 1 = 0.5
        LoraAdapter small = new LoraAdapter("small", Parameter.trainable(Tensor.of(new float[] {1, 0}, 1, 2)),
                Parameter.trainable(Tensor.of(new float[] {0.5f, 0}, 2, 1)), 1, LoraAdapter.Dropouts.NONE);
        MaxNormRegularizer.Result result = new MaxNormRegularizer(List.of(big, small), 4.0).apply();
        assertEquals(1, result.scaled());
        assertEquals(4.0, result.maxNorm(), 1e-6);
        assertEquals(4.0, MaxNormRegularizer.frobeniusOfProduct(big.up().data(), big.down().data(), 1), 1e-5);
        assertEquals(List.of(0.5, 0.0), List.of(small.up().data().toDoubleArray()[0], small.up().data().toDoubleArray()[1]));
    }
}
