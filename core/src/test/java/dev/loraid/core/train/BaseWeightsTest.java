package dev.loraid.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.ParameterException;
import dev.loraid.core.CollectingReporter;
import dev.loraid.core.lora.LoraFiles;
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
 * {@link BaseWeights} on the tiny DiT with lora_tiny (rank 4, alpha 2), merged as the checkpoint loads: a merged weight
 * is W + m · (alpha/r) · up · down as a plain double loop computes it, the others as in the file; a module the DiT has
 * no weight for is skipped with a warning; the multipliers must match the files.
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
        double[] w;
        double[] head;
        try (WanCheckpoint plain = WanCheckpoint.open(TrainFixture.TINY, null)) {
            w = plain.model().namedParameters().get(Q).data().toDoubleArray();
            head = plain.model().namedParameters().get("head.head.weight").data().toDoubleArray();
        }
        CollectingReporter reporter = new CollectingReporter();
        java.util.Set<String> changed = new java.util.HashSet<>();
        try (LoraFiles.Opened files = new LoraFiles.Opened()) {
            java.util.function.BiFunction<String, Tensor, Tensor> merge = new BaseWeights(List.of(extra), List.of(0.7))
                    .atLoad(files, WanCheckpoint.keys(TrainFixture.TINY), reporter);
            try (WanCheckpoint ck = WanCheckpoint.open(TrainFixture.TINY, null, Fp8Load.NONE, (key, t) -> {
                Tensor out = merge.apply(key, t);
                if (out != t) {
                    changed.add(key);
                }
                return out;
            })) {
                WanModel model = ck.model();
                List<String> warnings = reporter.warnings;
                assertEquals(40, changed.size(), "the tiny DiT's 4 blocks x 10 Linears");
                assertEquals(1, warnings.size(), warnings.toString());
                assertTrue(warnings.getFirst().contains("1 module(s) with no weight in the DiT") && warnings.getFirst().contains("blocks_9"),
                    warnings.getFirst());
                Tensor after = model.namedParameters().get(Q).data();
                assertArrayEquals(head, model.namedParameters().get("head.head.weight").data().toDoubleArray(), 0.0,
                        "no LoRA module: as in the file");
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
