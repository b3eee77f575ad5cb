package dev.loraid.cli;

import static dev.loraid.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code loraid merge} fails before the long work when it can: both experts' inputs and every output folder are
 * checked first, errors name the flag at fault, and nothing says "merged" before the outputs are in place.
 */
class MergeCommandTest {
    private static final Path GOLDEN = Path.of(System.getProperty("loraid.testdata"), "golden");
    private static final String DIT = GOLDEN.resolve("wan_tiny_weights.safetensors").toString();
    private static final String LORA = GOLDEN.resolve("lora_tiny.safetensors").toString();

    @TempDir
    Path dir;

    private List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    /** Both experts of the tiny DiT; not quiet, so every info line the run prints is in {@code err}. */
    private static CliRun twoExperts(Path low, String highLora, Path high) {
        return twoExperts(low, LORA, highLora, high);
    }

    private static CliRun twoExperts(Path low, String lowLora, String highLora, Path high) {
        return run("merge", "--dit", DIT, "--lora_weight", lowLora, "--save_merged_model", low.toString(),
                "--dit_high_noise", DIT, "--lora_weight_high_noise", highLora, "--save_merged_model_high_noise", high.toString());
    }

    /** {@code lora_tiny} with one factor that no longer fits the tiny DiT: cross_attn.k's up has 32 rows, not 64. */
    private Path misshapenLora() throws IOException {
        Path bad = dir.resolve("bad_high.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(Path.of(LORA))) {
            TreeMap<String, Tensor> t = new TreeMap<>();
            for (String n : f.names()) {
                t.put(n, f.tensor(n));
            }
            t.put("lora_unet_blocks_0_cross_attn_k.lora_up.weight", Tensor.full(DType.F32, 0.01, 32, 4));
            SafetensorsWriter.write(bad, t, f.metadata());
        }
        return bad;
    }

    @Test
    void a_bad_high_noise_lora_fails_before_the_low_noise_expert_is_merged() throws Exception {
        Path bad = misshapenLora();
        Path low = dir.resolve("low.safetensors");
        CliRun r = twoExperts(low, bad.toString(), dir.resolve("high.safetensors"));
        assertEquals(1, r.code(), r.err());
        // the low-noise write never started: its "writing" line is printed before the first tensor is read
        assertFalse(r.err().contains("merged "), r.err());
        assertFalse(r.err().contains("writing"), r.err());
        assertTrue(r.err().contains("high-noise expert") && r.err().contains(bad.toString())
                && r.err().contains("blocks.0.cross_attn.k.weight") && r.err().contains("lora_unet_blocks_0_cross_attn_k")
                && r.err().contains("but the base weight is [64, 64]"), r.err());
        assertEquals(List.of(bad), files(), "no output and no temp file");
    }

    @Test
    void output_errors_name_the_flag_of_the_output_at_fault() throws Exception {
        Path folder = Files.createDirectory(dir.resolve("a_folder"));
        CliRun highIsDir = twoExperts(dir.resolve("low.safetensors"), LORA, folder);
        assertEquals(1, highIsDir.code(), highIsDir.err());
        assertTrue(highIsDir.err().contains("--save_merged_model_high_noise " + folder + " is a directory"), highIsDir.err());
        assertFalse(highIsDir.err().contains("--save_merged_model " + folder), highIsDir.err());

        Path lora = Files.copy(Path.of(LORA), dir.resolve("lora.safetensors"));
        CliRun lowIsInput = twoExperts(lora, lora.toString(), LORA, dir.resolve("high.safetensors"));
        assertEquals(1, lowIsInput.code(), lowIsInput.err());
        assertTrue(lowIsInput.err().contains("--save_merged_model " + lora + " is also an input"), lowIsInput.err());
        CliRun highIsInput = twoExperts(dir.resolve("low.safetensors"), LORA, lora.toString(), lora);
        assertEquals(1, highIsInput.code(), highIsInput.err());
        assertTrue(highIsInput.err().contains("--save_merged_model_high_noise " + lora + " is also an input"), highIsInput.err());
        assertEquals(List.of(folder, lora), files());
    }

    @Test
    void output_folders_are_checked_before_any_input_is_read() throws Exception {
        Path missing = dir.resolve("no_such_folder").resolve("low.safetensors");
        // the LoRA does not exist either: the folder error coming first shows no input was read
        CliRun r = twoExperts(missing, dir.resolve("nope.safetensors").toString(), LORA, dir.resolve("high.safetensors"));
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("--save_merged_model " + missing + " is in a folder that does not exist"), r.err());
        assertFalse(r.err().contains("nope.safetensors"), r.err());

        Path blocker = Files.writeString(dir.resolve("blocker"), "a regular file, not a folder");
        Path high = blocker.resolve("high.safetensors");
        CliRun notFolder = twoExperts(dir.resolve("low.safetensors"), LORA, high);
        assertEquals(1, notFolder.code(), notFolder.err());
        assertTrue(notFolder.err().contains("--save_merged_model_high_noise " + high + " is in " + blocker + ", which is not a folder"),
                notFolder.err());
        assertFalse(notFolder.err().contains("writing"), notFolder.err());
        assertEquals(List.of(blocker), files());
    }

    @Test
    void success_is_reported_once_both_experts_are_in_place() throws Exception {
        Path low = dir.resolve("low.safetensors");
        Path high = dir.resolve("high.safetensors");
        CliRun r = twoExperts(low, LORA, high);
        assertEquals(0, r.code(), r.err());
        String err = r.err();
        int writingHigh = err.indexOf("writing --save_merged_model_high_noise " + high);
        int mergedLow = err.indexOf("merged 40 weights into " + low);
        assertTrue(err.indexOf("writing --save_merged_model " + low) >= 0 && writingHigh >= 0 && mergedLow > writingHigh
                && err.indexOf("merged 40 weights into " + high) > mergedLow, err);
        assertEquals(List.of(high, low), files());
    }
}
