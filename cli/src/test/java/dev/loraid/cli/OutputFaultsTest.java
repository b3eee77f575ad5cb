package dev.loraid.cli;

import static dev.loraid.cli.CliRun.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16 §4, §5: a merge killed by SIGKILL or SIGTERM leaves the output absent, old or complete, never partial, and
 * no temp file survives (SIGTERM: the shutdown hook; SIGKILL: the next run to that folder); output names up to
 * NAME_MAX work, longer ones fail before any input is read; wan-forward checks its output before the forward pass.
 */
@DisabledOnOs(OS.WINDOWS)
class OutputFaultsTest {
    private static final Path GOLDEN = Path.of(System.getProperty("loraid.testdata"), "golden");
    private static final String DIT = GOLDEN.resolve("wan_tiny_weights.safetensors").toString();
    private static final String LORA = GOLDEN.resolve("lora_tiny.safetensors").toString();

    @TempDir
    Path dir;

    private List<Path> temps(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    /** The tiny DiT plus 128 MiB of an extra tensor, so that writing the merge takes long enough to be killed. */
    private Path bigBase() throws IOException {
        Path base = dir.resolve("base.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(Path.of(DIT))) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            for (String n : f.names()) {
                t.put(n, f.tensor(n));
            }
            t.put("zz_padding.weight", Tensor.full(DType.F32, 0.5, 32, 1024, 1024));
            SafetensorsWriter.write(base, t, f.metadata());
        }
        return base;
    }

    private Process child(Path base, Path out, Path log) throws IOException {
        return ChildLoraid.start(List.of(), List.of("merge", "--dit", base.toString(), "--lora_weight", LORA, "--save_merged_model",
                out.toString(), "--quiet"), log);
    }

    /** Starts a merge in a child JVM, signals it once its temp file exists, and returns what the output folder holds. */
    private void interrupt(boolean sigkill) throws Exception {
        Path base = bigBase();
        Path outDir = Files.createDirectory(dir.resolve("out"));
        Path out = outDir.resolve("merged.safetensors");
        byte[] old = "old contents".getBytes();
        Files.write(out, old);
        Process p = child(base, out, dir.resolve("child.log"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (temps(outDir).isEmpty() && p.isAlive()) {
            assertTrue(System.nanoTime() < deadline, "no temp file appeared in 60 s");
            Thread.sleep(2);
        }
        if (sigkill) {
            p.destroyForcibly();
        } else {
            p.destroy(); // SIGTERM
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String log = Files.readString(dir.resolve("child.log"));
        assertTrue(p.exitValue() != 0, "the child finished before the signal; nothing was interrupted: " + log);
        if (sigkill) {
            // killed mid-write (128 MiB left to go): its temp file is there, for the next run to remove
            assertFalse(temps(outDir).isEmpty(), log);
        }
        // absent is impossible here (an old file was there); old or complete, never partial
        byte[] now = Files.readAllBytes(out);
        if (!java.util.Arrays.equals(old, now)) {
            try (SafetensorsFile f = SafetensorsFile.open(out)) {
                assertTrue(f.contains("zz_padding.weight"), log);
            }
        }
        if (!sigkill) {
            assertEquals(List.of(), temps(outDir), "SIGTERM: the shutdown hook removes the temp file; " + log);
        }
        // the next run to the folder removes what a killed run left and writes a complete output
        CliRun again = run("merge", "--dit", base.toString(), "--lora_weight", LORA, "--save_merged_model", out.toString(), "--quiet");
        assertEquals(0, again.code(), again.err());
        assertEquals(List.of(), temps(outDir));
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertTrue(f.contains("zz_padding.weight"));
        }
    }

    @Test
    void sigkill_during_merge_leaves_old_or_complete_output_and_the_next_run_removes_the_temp() throws Exception {
        interrupt(true);
    }

    @Test
    void sigterm_during_merge_removes_the_temp_file_at_once() throws Exception {
        interrupt(false);
    }

    @Test
    void a_stale_temp_of_a_dead_writer_on_this_host_is_removed_and_others_are_kept() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        String host = String.format("%08x", InetAddress.getLocalHost().getHostName().hashCode());
        Path stale = Files.write(dir.resolve(".merged.safetensors.loraid-" + gone.pid() + "-" + host + "-0badf00d.tmp"), new byte[10]);
        Path live = Files.write(dir.resolve(".merged.safetensors.loraid-" + ProcessHandle.current().parent().orElseThrow().pid()
                + "-" + host + "-0badf00d.tmp"), new byte[10]);
        Path otherHost = Files.write(dir.resolve(".merged.safetensors.loraid-" + gone.pid() + "-ffffffff-0badf00d.tmp"), new byte[10]);
        CliRun r = run("merge", "--dit", DIT, "--lora_weight", LORA, "--save_merged_model", dir.resolve("merged.safetensors").toString(),
                "--quiet");
        assertEquals(0, r.code(), r.err());
        assertFalse(Files.exists(stale));
        assertTrue(Files.exists(live) && Files.exists(otherHost));
    }

    @Test
    void output_names_up_to_name_max_work_and_longer_fail_before_reading_inputs() throws Exception {
        String name = "m".repeat(255 - ".safetensors".length()) + ".safetensors";
        assertEquals(255, name.length());
        CliRun ok = run("merge", "--dit", DIT, "--lora_weight", LORA, "--save_merged_model", dir.resolve(name).toString(), "--quiet");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(Files.exists(dir.resolve(name)));
        assertEquals(List.of(), temps(dir));
        // a name one byte over fails at once, before the inputs are read (an unreadable DiT is not even noticed)
        CliRun tooLong = run("merge", "--dit", dir.resolve("missing.safetensors").toString(), "--lora_weight", LORA,
                "--save_merged_model", dir.resolve("x" + name).toString());
        assertEquals(1, tooLong.code(), tooLong.err());
        assertTrue(tooLong.err().contains("--save_merged_model") && tooLong.err().contains("256 bytes"), tooLong.err());
    }

    @Test
    void a_train_output_name_too_long_for_its_step_state_folders_is_refused_before_training() {
        // <name>-stepNNNNNNNN-state is the longest name a run writes: 237 + 19 bytes is one over NAME_MAX
        CliRun r = run("train", "--dit", dir.resolve("missing.safetensors").toString(), "--dataset_config", dir.resolve("missing.toml").toString(),
                "--output_dir", dir.toString(), "--output_name", "n".repeat(237));
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--output_name is too long") && r.err().contains("256 bytes"), r.err());
        CliRun fits = run("train", "--dit", dir.resolve("missing.safetensors").toString(), "--dataset_config",
                dir.resolve("missing.toml").toString(), "--output_dir", dir.toString(), "--output_name", "n".repeat(236));
        assertFalse(fits.err().contains("--output_name"), fits.err());
    }

    @Test
    void wan_forward_checks_its_output_folder_before_the_forward_pass() {
        CliRun r = run("wan-forward", "--dit", DIT, "--inputs", GOLDEN.resolve("wan_tiny_forward.safetensors").toString(), "--out",
                dir.resolve("no/such/folder/out.safetensors").toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("--out") && r.err().contains("does not exist"), r.err());
        assertFalse(r.out().contains("model:"), "the model was loaded first: " + r.out());
    }

    @Test
    void a_write_error_names_its_cause() {
        CliRun r = run("convert", "--input", LORA, "--output", "/proc/loraid-test.safetensors", "--target", "other");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("/proc"), r.err());
        assertTrue(r.err().matches("(?s).*(denied|not writable|not permitted|No such file|no such file|Read-only).*"), r.err());
    }
}
