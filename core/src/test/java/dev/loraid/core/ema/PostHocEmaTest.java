package dev.loraid.core.ema;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.CollectingReporter;
import dev.loraid.core.Floats;
import dev.loraid.core.LoraidException;
import dev.loraid.core.lora.LoraFile;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraHashes;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spec loraid.md REQ-EMA-4..8 and REQ-META-5 through the ema command: T-29, T-30, T-33, T-34. */
class PostHocEmaTest {
    @TempDir
    Path dir;

    private Path epochs(float... values) throws Exception {
        Path first = null;
        for (int i = 0; i < values.length; i++) {
            Path p = EmaTestFiles.write(EmaTestFiles.constant(values[i], 2, DType.F32, Map.of()),
                    dir.resolve(String.format("run-%06d.safetensors", i + 1)), 1000 + i);
            first = first == null ? p : first;
        }
        return first;
    }

    private LoraFile ema(Path reference, EmaSchedule schedule) {
        Path out = dir.resolve("ema-out.safetensors");
        TreeMap<Integer, Path> series = new TreeMap<>(Map.of(1, reference));
        EmaTool.run(new EmaRequest(series, List.of(), out, new TreeMap<>(), schedule, EpochDiscovery.SortBy.MTIME, false, 0,
                LoraBlend.Mode.INTELLIGENT, 0.1, false, "partitioned", false), new CollectingReporter());
        return LoraFiles.read(out);
    }

    private static float valueOf(LoraFile f) {
        return Floats.read(f.tensors().get(EmaTestFiles.Q + ".lora_down.weight"))[0];
    }

    @Test
    void t29_power_ema_weights() throws Exception {
        Path ref = epochs(0, 1, 2);
        assertEquals(1.637243, valueOf(ema(ref, EmaSchedule.select(0.2, null, null, false))), 1e-6);
        assertEquals(1.858998, valueOf(ema(ref, EmaSchedule.select(0.2, null, null, true))), 1e-6);
    }

    @Test
    void t30_linear_ema() throws Exception {
        Path ref = epochs(0, 1, 2);
        assertEquals(1.05, valueOf(ema(ref, EmaSchedule.select(null, 0.9, 0.5, false))), 1e-6);
        LoraidException e = assertThrows(LoraidException.class, () -> EmaSchedule.select(0.2, 0.9, null, false));
        assertTrue(e.getMessage().contains("both modes"));
    }

    @Test
    void t33_ema_alpha_and_keys() throws Exception {
        Path a = EmaTestFiles.write(EmaTestFiles.constant(0, 2, DType.F32, Map.of()), dir.resolve("x/run-000001.safetensors"), 1000);
        Path b = EmaTestFiles.write(EmaTestFiles.constant(1, 3, DType.F32, Map.of()), dir.resolve("x/run-000002.safetensors"), 1001);
        LoraidException alpha = assertThrows(LoraidException.class, () -> ema(a, EmaSchedule.select(null, null, null, false)));
        assertTrue(alpha.getMessage().contains("alpha for " + EmaTestFiles.Q + ".alpha differs between") && alpha.getMessage().contains("run-000002"),
                alpha.getMessage());
        LoraFile full = EmaTestFiles.constant(1, 2, DType.F32, Map.of());
        TreeMap<String, Tensor> fewer = new TreeMap<>(full.tensors());
        fewer.remove(EmaTestFiles.Q + ".lora_up.weight");
        EmaTestFiles.write(full.withTensors(fewer), b, 1001);
        LoraidException keys = assertThrows(LoraidException.class, () -> ema(a, EmaSchedule.select(null, null, null, false)));
        // caught by the per-file input check (issue 16) before the key sets are compared
        assertTrue(keys.getMessage().contains(EmaTestFiles.Q + " has lora_down but no lora_up") && keys.getMessage().contains("run-000002"),
                keys.getMessage());
        assertFalse(Files.exists(dir.resolve("ema-out.safetensors")));
    }

    @Test
    void t34_ema_dtype_metadata() throws Exception {
        Path a = EmaTestFiles.write(EmaTestFiles.constant(0.5f, 2, DType.BF16, Map.of("ss_loraid", "2", "ss_output_name", "old")),
                dir.resolve("y/run-000001.safetensors"), 1000);
        EmaTestFiles.write(EmaTestFiles.constant(0.25f, 2, DType.BF16, Map.of("ss_loraid", "2", "ss_output_name", "new")),
                dir.resolve("y/run-000002.safetensors"), 1001);
        LoraFile out = ema(a, EmaSchedule.select(null, null, null, false));
        assertEquals(DType.BF16, out.tensors().get(EmaTestFiles.Q + ".lora_down.weight").dtype());
        assertEquals("new", out.metadata().get("ss_output_name"));
        assertEquals("2", out.metadata().get("ss_loraid"));
        assertEquals(LoraHashes.withHashes(out.tensors(), out.metadata()).get(LoraHashes.MODEL_HASH), out.metadata().get(LoraHashes.MODEL_HASH));
        EmaTestFiles.write(EmaTestFiles.constant(0.25f, 2, DType.BF16, Map.of("ss_loraid", "3")), dir.resolve("y/run-000002.safetensors"), 1001);
        LoraidException e = assertThrows(LoraidException.class, () -> ema(a, EmaSchedule.select(null, null, null, false)));
        assertTrue(e.getMessage().contains("disagree on ss_loraid"), e.getMessage());
    }
}
