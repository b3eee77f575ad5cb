package dev.loraid.cli;

import static dev.loraid.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16 §3: inputs are regular files (or folders where a checkpoint folder is meant), checked before they are
 * opened: a FIFO given as input used to block every command forever; folders and FIFOs as LoRA files were "not found".
 */
@DisabledOnOs(OS.WINDOWS)
class InputFilesTest {
    private static final Path GOLDEN = Path.of(System.getProperty("loraid.testdata"), "golden");
    private static final String DIT = GOLDEN.resolve("wan_tiny_weights.safetensors").toString();
    private static final String LORA = GOLDEN.resolve("lora_tiny.safetensors").toString();

    @TempDir
    Path dir;
    private String fifo;

    @BeforeEach
    void makeFifo() throws Exception {
        Path p = dir.resolve("pipe.safetensors");
        assertEquals(0, new ProcessBuilder("mkfifo", p.toString()).inheritIO().start().waitFor());
        fifo = p.toString();
    }

    private CliRun fails(String... args) {
        CliRun r = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> run(args), "hangs: " + String.join(" ", args));
        assertEquals(1, r.code(), r.err());
        return r;
    }

    @Test
    void a_fifo_as_input_fails_at_once_naming_it() {
        String out = dir.resolve("out.safetensors").toString();
        for (String[] args : new String[][] {
                {"inspect", fifo},
                {"merge", "--dit", fifo, "--lora_weight", LORA, "--save_merged_model", out},
                {"convert", "--input", fifo, "--output", out, "--target", "other"},
                {"plan", "--dit", fifo},
                {"wan-forward", "--dit", DIT, "--inputs", fifo, "--out", out},
                {"tag", fifo, "--LORAID", "1", "--num_blocks", "4", "-o", out},
                {"validate", "--lora_weight", fifo, "--num_blocks", "4"},
                {"ema", "--lora1", fifo, "--output_file", out}}) {
            CliRun r = fails(args);
            assertTrue(r.err().contains(fifo) && r.err().contains("not a regular file"), String.join(" ", args) + ": " + r.err());
        }
    }

    @Test
    void a_folder_as_lora_file_is_called_a_folder_not_missing() throws Exception {
        Path folder = Files.createDirectory(dir.resolve("lora.safetensors"));
        CliRun r = fails("merge", "--dit", DIT, "--lora_weight", folder.toString(), "--save_merged_model",
                dir.resolve("out.safetensors").toString());
        assertTrue(r.err().contains(folder + " is a folder"), r.err());
        r = fails("merge", "--dit", DIT, "--lora_weight", fifo, "--save_merged_model", dir.resolve("out.safetensors").toString());
        assertTrue(r.err().contains(fifo + " is not a regular file"), r.err());
    }
}
