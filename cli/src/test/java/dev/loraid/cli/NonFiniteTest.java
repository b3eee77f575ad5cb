package dev.loraid.cli;

import static dev.loraid.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16 §1: no command ends with exit 0 and NaN/Inf in its output, and convert and ema check their LoRA inputs as
 * merge and validate do. The writer checks every tensor before the output is committed; --allow_non_finite opts out.
 */
class NonFiniteTest {
    private static final Path GOLDEN = Path.of(System.getProperty("loraid.testdata"), "golden");
    private static final String DIT = GOLDEN.resolve("wan_tiny_weights.safetensors").toString();
    private static final String LORA = GOLDEN.resolve("lora_tiny.safetensors").toString();
    private static final String Q = "lora_unet_blocks_0_self_attn_q";

    @TempDir
    Path dir;

    /** lora_tiny with {@code edit} applied to its tensors, written without the finite check. */
    private Path lora(String name, Consumer<TreeMap<String, Tensor>> edit) throws IOException {
        Path p = dir.resolve(name);
        try (SafetensorsFile f = SafetensorsFile.open(Path.of(LORA))) {
            TreeMap<String, Tensor> t = new TreeMap<>();
            for (String n : f.names()) {
                t.put(n, f.tensor(n).copy());
            }
            edit.accept(t);
            ScopedValue.where(SafetensorsWriter.ALLOW_NON_FINITE, true).call(() -> {
                SafetensorsWriter.write(p, t, f.metadata());
                return null;
            });
        }
        return p;
    }

    private List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    private void failsWithoutOutput(CliRun r, Path out, String... mentions) throws IOException {
        assertEquals(1, r.code(), r.err());
        for (String m : mentions) {
            assertTrue(r.err().contains(m), "expected '" + m + "' in: " + r.err());
        }
        assertTrue(!Files.exists(out), out + " was written");
        assertTrue(files().stream().noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "temp left: " + files());
    }

    @Test
    void merge_with_an_overflowing_multiplier_writes_nothing() throws Exception {
        Path out = dir.resolve("merged.safetensors");
        CliRun r = run("merge", "--dit", DIT, "--lora_weight", LORA, "--lora_multiplier", "1e39", "--save_merged_model", out.toString(),
                "--quiet");
        failsWithoutOutput(r, out, "--save_merged_model", "blocks.0.", "at flat index", "--allow_non_finite");
    }

    @Test
    void merge_of_huge_finite_factors_writes_nothing_unless_allowed() throws Exception {
        Path big = lora("big.safetensors", t -> {
            t.put(Q + ".lora_down.weight", Tensor.full(DType.F32, 1e20, t.get(Q + ".lora_down.weight").shape().toArray()));
            t.put(Q + ".lora_up.weight", Tensor.full(DType.F32, 1e20, t.get(Q + ".lora_up.weight").shape().toArray()));
        });
        Path out = dir.resolve("merged.safetensors");
        failsWithoutOutput(run("merge", "--dit", DIT, "--lora_weight", big.toString(), "--save_merged_model", out.toString(), "--quiet"),
                out, "blocks.0.self_attn.q.weight", "Inf");
        CliRun allowed = run("merge", "--dit", DIT, "--lora_weight", big.toString(), "--save_merged_model", out.toString(), "--quiet",
                "--allow_non_finite");
        assertEquals(0, allowed.code(), allowed.err());
        assertTrue(Files.exists(out));
    }

    @Test
    void convert_checks_its_input_as_merge_does() throws Exception {
        Path out = dir.resolve("converted.safetensors");
        Map<String, Consumer<TreeMap<String, Tensor>>> bad = Map.of(
                "nan.safetensors", t -> t.put(Q + ".lora_down.weight", Tensor.full(DType.F32, Double.NaN, 4, 64)),
                "inf.safetensors", t -> t.put(Q + ".lora_up.weight", Tensor.full(DType.F32, Double.POSITIVE_INFINITY, 64, 4)),
                "rank.safetensors", t -> t.put(Q + ".lora_up.weight", Tensor.full(DType.F32, 0.1, 64, 3)),
                "noup.safetensors", t -> t.remove(Q + ".lora_up.weight"));
        Map<String, String> expect = Map.of("nan.safetensors", "NaN", "inf.safetensors", "Infinity",
                "rank.safetensors", "rank mismatch", "noup.safetensors", "no lora_up");
        for (var e : bad.entrySet()) {
            Path in = lora(e.getKey(), e.getValue());
            failsWithoutOutput(run("convert", "--input", in.toString(), "--output", out.toString(), "--target", "other"), out,
                    in.toString(), expect.get(e.getKey()));
        }
    }

    @Test
    void ema_refuses_an_epoch_with_nan_and_a_base_model_as_an_epoch() throws Exception {
        Path out = dir.resolve("ema.safetensors");
        Path e1 = Files.copy(GOLDEN.resolve("ema_lora-000001.safetensors"), dir.resolve("ema_lora-000001.safetensors"));
        Path e2 = dir.resolve("ema_lora-000002.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(GOLDEN.resolve("ema_lora-000002.safetensors"))) {
            TreeMap<String, Tensor> t = new TreeMap<>();
            for (String n : f.names()) {
                t.put(n, f.tensor(n).copy());
            }
            String down = t.keySet().stream().filter(n -> n.endsWith("lora_down.weight")).findFirst().orElseThrow();
            t.put(down, Tensor.full(t.get(down).dtype(), Double.NaN, t.get(down).shape().toArray()));
            ScopedValue.where(SafetensorsWriter.ALLOW_NON_FINITE, true).call(() -> {
                SafetensorsWriter.write(e2, t, f.metadata());
                return null;
            });
        }
        failsWithoutOutput(run("ema", "--lora1", e1.toString(), "--output_file", out.toString(), "--quiet"), out, e2.toString(), "NaN");
        failsWithoutOutput(run("ema", e1.toString(), DIT, "--output_file", out.toString(), "--quiet"), out, DIT, "unrecognised LoRA key");
    }
}
