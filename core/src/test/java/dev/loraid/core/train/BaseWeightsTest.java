package dev.loraid.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.ParameterException;
import dev.loraid.core.CollectingReporter;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.wan.WanCheckpoint;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.quant.Fp8Load;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link BaseWeights} on the tiny DiT with lora_tiny (rank 4, alpha 2): a merged weight is W + m · (alpha/r) · up · down
 * as a plain double loop computes it, an owned tensor where the others stay the checkpoint's views; a module the DiT
 * has no layer for is skipped with a warning; the multipliers must match the files.
 */
class BaseWeightsTest {
    private static final String Q = "blocks.1.self_attn.q.weight";
    private static final String LORA_Q = "lora_unet_blocks_1_self_attn_q";

    @Test
    void aMergedWeightIsTheBaseWeightPlusTheScaledProduct(@TempDir Path dir) throws Exception {
        Path lora = Golden.path("lora_tiny.safetensors");
        // the same LoRA with one more module, for a block the tiny DiT does not have
        Path extra = dir.resolve("extra.safetensors");
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(lora)) {
            for (String n : f.names()) {
                tensors.put(n, f.tensor(n).copy());
                if (n.startsWith(LORA_Q)) {
                    tensors.put(n.replace("blocks_1_", "blocks_9_"), f.tensor(n).copy());
                }
            }
        }
        SafetensorsWriter.write(extra, tensors, Map.of());
        double[] up;
        double[] down;
        double alpha;
        try (SafetensorsFile f = SafetensorsFile.open(lora)) {
            up = f.tensor(LORA_Q + ".lora_up.weight").toDoubleArray();
            down = f.tensor(LORA_Q + ".lora_down.weight").toDoubleArray();
            alpha = f.tensor(LORA_Q + ".alpha").getDouble();
        }
        try (WanCheckpoint ck = WanCheckpoint.open(TrainFixture.TINY, null)) {
            WanModel model = ck.model();
            Tensor before = model.namedParameters().get(Q).data();
            Tensor untouched = model.namedParameters().get("head.head.weight").data();
            double[] w = before.toDoubleArray();
            CollectingReporter reporter = new CollectingReporter();
            int merged = new BaseWeights(List.of(extra), List.of(0.7)).mergeInto(model, reporter);
            List<String> warnings = reporter.warnings;

            assertEquals(40, merged, "the tiny DiT's 4 blocks x 10 Linears");
            assertEquals(1, warnings.size(), warnings.toString());
            assertTrue(warnings.getFirst().contains("1 module(s) with no Linear layer") && warnings.getFirst().contains("blocks_9"),
                warnings.getFirst());
            Tensor after = model.namedParameters().get(Q).data();
            assertNotSame(before, after);
            assertSame(untouched, model.namedParameters().get("head.head.weight").data(), "no LoRA module: still the view");
            int out = 64;
            int in = 64;
            int rank = 4;
            double[] got = after.toDoubleArray();
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    double delta = 0;
                    for (int r = 0; r < rank; r++) {
                        delta += up[o * rank + r] * down[r * in + i];
                    }
                    double want = w[o * in + i] + 0.7 * (alpha / rank) * delta;
                    assertEquals(want, got[o * in + i], 1e-6, Q + "[" + o + ", " + i + "]");
                }
            }
        }
    }

    @Test
    void fp8WeightsAreRefused(@TempDir Path dir) {
        TrainConfig c = TrainFixture.config(dir.resolve("ds.toml"), dir, "x", 1, TrainFixture.network(4, null, 12), null, null);
        ParameterException e = assertThrows(ParameterException.class, () -> new TrainConfig(c.dit(), null, null, false, null,
                c.datasetConfig(), c.workingDir(), c.device(), c.mixedPrecision(), false, c.network(), c.optimizer(), c.timesteps(),
                1, null, 1, c.seed(), c.save(), null, null, null, null, Fp8Load.CAST, 0,
                new BaseWeights(List.of(Golden.path("lora_tiny.safetensors")), List.of())));
        assertTrue(e.getMessage().contains("with fp8 weights") && e.getMessage().contains("loraid merge"), e.getMessage());
    }

    @Test
    void theMultipliersMustMatchTheFiles() {
        Path a = Path.of("a.safetensors");
        Path b = Path.of("b.safetensors");
        assertEquals(List.of(1.0, 1.0), new BaseWeights(List.of(a, b), List.of()).multipliers());
        ParameterException e = assertThrows(ParameterException.class, () -> new BaseWeights(List.of(a, b), List.of(0.5)));
        assertTrue(e.getMessage().contains("1 value(s) for 2 file(s)"), e.getMessage());
    }
}
