package dev.loraid.cli;

import static dev.loraid.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.tensor.safetensors.SafetensorsFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Commands with several outputs (ema, merge of both experts) write them as a set: all of them or none. */
class OutputSetCommandsTest {
    private static final Path GOLDEN = Path.of(System.getProperty("loraid.testdata"), "golden");

    @TempDir
    Path dir;

    private static String g(String name) {
        return GOLDEN.resolve(name).toString();
    }

    private List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    /** {@code ema --merge_only} of two epoch files: series 1 to {@code first}, the packed pair to {@code combined}. */
    private static CliRun ema(Path first, Path combined) {
        return run("ema", "--merge_only", "--lora1", g("ema_lora-000001.safetensors"), "--lora2", g("ema_lora-000002.safetensors"),
                "--output_file_lora1", first.toString(), "--output_file", combined.toString(), "--quiet");
    }

    /**
     * {@code ema} whose combined output's folder disappears while the inputs are read (the err stream is the hook: the
     * run reports each series there), after the up-front folder check: series 1 is staged by then and must be
     * discarded with the output that failed.
     */
    private static CliRun emaLosingTheSecondFolder(Path first, Path combined) {
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8) {
            @Override
            public void println(String line) {
                super.println(line);
                if (line.startsWith("lora2:")) {
                    try {
                        Files.delete(combined.getParent());
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
        };
        int code = Main.run(new String[] {"ema", "--merge_only", "--lora1", g("ema_lora-000001.safetensors"), "--lora2",
            g("ema_lora-000002.safetensors"), "--output_file_lora1", first.toString(), "--output_file", combined.toString()},
            new PrintStream(OutputStream.nullOutputStream()), err);
        return new CliRun(code, "", errBytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void ema_writes_nothing_when_its_second_output_cannot_be_written() throws Exception {
        Path first = dir.resolve("first.safetensors");
        Path combined = dir.resolve("combined").resolve("combined.safetensors");
        Files.createDirectory(combined.getParent());
        CliRun r = emaLosingTheSecondFolder(first, combined);
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("cannot write " + combined), r.err());
        assertFalse(r.err().contains("wrote "), "no success line for an output that was never put in place: " + r.err());
        assertEquals(List.of(), files(), "no first output and no temp file");

        byte[] old = "an earlier result".getBytes();
        Files.write(first, old);
        Files.createDirectory(combined.getParent());
        assertEquals(1, emaLosingTheSecondFolder(first, combined).code());
        assertArrayEquals(old, Files.readAllBytes(first), "a file already at the first output path is kept as it was");
        assertEquals(List.of(first), files());
    }

    @Test
    void ema_checks_its_output_folders_before_reading_any_input() throws Exception {
        Path blocker = Files.writeString(dir.resolve("blocker"), "a regular file, not a folder");
        Path combined = blocker.resolve("combined.safetensors");
        CliRun r = run("ema", "--merge_only", "--lora1", dir.resolve("missing-input.safetensors").toString(),
            "--output_file", combined.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("--output_file " + combined) && r.err().contains("which is not a folder"), r.err());
        assertEquals(List.of(blocker), files());
    }

    @Test
    void ema_writes_every_output_when_all_succeed() throws Exception {
        Path first = dir.resolve("first.safetensors");
        Path combined = dir.resolve("combined.safetensors");
        CliRun r = ema(first, combined);
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of(combined, first), files());
        try (SafetensorsFile in = SafetensorsFile.open(GOLDEN.resolve("ema_lora-000001.safetensors"));
                SafetensorsFile in2 = SafetensorsFile.open(GOLDEN.resolve("ema_lora-000002.safetensors"));
                SafetensorsFile one = SafetensorsFile.open(first); SafetensorsFile both = SafetensorsFile.open(combined)) {
            assertEquals(in.names().size(), one.names().size());
            assertEquals(2 * in.names().size(), both.names().size());
            for (String n : in.names()) {
                // --merge_only without --average: series 1 is epoch 1 as it is
                assertArrayEquals(in.tensor(n).toFloatArray(), one.tensor(n).toFloatArray(), n);
                assertArrayEquals(in.tensor(n).toFloatArray(), both.tensor("lora1_" + n).toFloatArray(), n);
                assertArrayEquals(in2.tensor(n).toFloatArray(), both.tensor("lora2_" + n).toFloatArray(), n);
            }
        }
    }

    @Test
    void two_outputs_on_one_file_are_a_usage_error_naming_both_flags() throws Exception {
        Path x = dir.resolve("x.safetensors");
        CliRun ema = ema(x, dir.resolve("sub/../x.safetensors"));
        assertEquals(2, ema.code(), ema.err());
        assertTrue(ema.err().contains("--output_file_lora1 " + x) && ema.err().contains("--output_file " + dir.resolve("sub/../x.safetensors"))
                && ema.err().contains("same file"), ema.err());
        CliRun slots = run("ema", "--merge_only", "--lora1", g("ema_lora-000001.safetensors"), "--lora2", g("ema_lora-000002.safetensors"),
                "--output_file_lora1", x.toString(), "--output_file_lora2", x.toString());
        assertEquals(2, slots.code(), slots.err());
        assertTrue(slots.err().contains("--output_file_lora1") && slots.err().contains("--output_file_lora2"), slots.err());
        CliRun merge = run("merge", "--dit", g("wan_tiny_weights.safetensors"), "--lora_weight", g("lora_tiny.safetensors"),
                "--save_merged_model", x.toString(), "--dit_high_noise", g("wan_tiny_weights.safetensors"),
                "--lora_weight_high_noise", g("lora_tiny.safetensors"), "--save_merged_model_high_noise", dir.resolve("./x.safetensors").toString());
        assertEquals(2, merge.code(), merge.err());
        assertTrue(merge.err().contains("--save_merged_model ") && merge.err().contains("--save_merged_model_high_noise "), merge.err());
        assertEquals(List.of(), files());
    }

    /**
     * The output folders are checked before any work (MergeCommandTest), so the failure here is one no check can
     * foresee: the high-noise output's folder disappears once the low-noise expert has started writing (the err
     * stream is the hook: the run announces each write there). The low-noise expert is then fully staged and must be
     * discarded with the failed one.
     */
    @Test
    void merge_writes_neither_expert_when_the_second_cannot_be_written() throws Exception {
        Path low = dir.resolve("low.safetensors");
        Path highFolder = Files.createDirectory(dir.resolve("high"));
        Path high = highFolder.resolve("high.safetensors");
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8) {
            @Override
            public void println(String line) {
                super.println(line);
                if (line.startsWith("writing --save_merged_model " + low)) {
                    try {
                        Files.delete(highFolder);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
        };
        int code = Main.run(new String[] {"merge", "--dit", g("wan_tiny_weights.safetensors"), "--lora_weight", g("lora_tiny.safetensors"),
            "--save_merged_model", low.toString(), "--dit_high_noise", g("wan_tiny_weights.safetensors"),
            "--lora_weight_high_noise", g("lora_tiny.safetensors"), "--save_merged_model_high_noise", high.toString()},
                new PrintStream(OutputStream.nullOutputStream()), err);
        String log = errBytes.toString(StandardCharsets.UTF_8);
        assertEquals(1, code, log);
        assertTrue(log.contains("writing --save_merged_model_high_noise " + high)
                && log.contains("cannot write --save_merged_model_high_noise " + high), log);
        assertFalse(log.contains("merged "), "no success line for an output that was never put in place: " + log);
        assertEquals(List.of(), files(), "no low-noise output and no temp file");
    }
}
