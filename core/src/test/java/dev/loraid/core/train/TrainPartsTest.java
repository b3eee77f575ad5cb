package dev.loraid.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.optim.AdamW;
import dev.loraid.core.CollectingReporter;
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
        AdamW plus = Optimizers.adamW(params, c, 16.0);
        assertEquals(2, plus.groups().size());
        assertEquals(List.of("m.lora_down.weight"), List.copyOf(plus.groups().get(0).params().keySet()));
        assertEquals(1.6e-2, plus.groups().get(1).lr(), 1e-15);
        assertEquals(0.1, plus.groups().get(1).weightDecay());
        assertEquals(1, Optimizers.adamW(params, c, null).groups().size());
        assertThrows(IllegalArgumentException.class, () -> Optimizers.adamW(params, new OptimizerConfig("AdamW", List.of("momentum=0.9"),
                1e-3, "constant", "0", "0", 1, 1, null, null, null, 1), null));
        for (String name : List.of("AdamW8bit", "adamw8bit", "bitsandbytes.optim.AdamW8bit", "bitsandbytes.optim.adamw.AdamW8bit")) {
            OptimizerConfig eightBit = new OptimizerConfig(name, List.of(), 1e-3, "constant", "0", "0", 1, 1, null, null, null, 1);
            assertTrue(eightBit.eightBit(), name);
            AdamW made = Optimizers.adamW(params, eightBit, null);
            assertFalse(made.quantizes(params.get("m.lora_up.weight")), "2 elements keep fp32 moments");
        }
        assertFalse(c.eightBit());
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class, () -> new OptimizerConfig("AdEMAMix8bit",
                List.of(), 1e-3, "constant", "0", "0", 1, 1, null, null, null, 1));
        assertTrue(other.getMessage().contains("AdEMAMix8bit is not supported (supported: AdamW, AdamW8bit)"), other.getMessage());
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
