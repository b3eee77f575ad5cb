package dev.loraid.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11's resume promise: a training JVM killed with SIGKILL mid-epoch and resumed from its last state ends with
 * the same loss log and bit-identical LoRA weights as a run that was never interrupted.
 */
class KillAndResumeTest {
    private static final int STEPS = 150;
    private static final int SAVE_EVERY = 30;

    /** The child JVM: one training run, saving a LoRA file and a state every {@value #SAVE_EVERY} steps. */
    public static void main(String[] args) {
        Trainer.run(config(Path.of(args[0]), Path.of(args[1]), null), TrainListener.SILENT);
    }

    private static TrainConfig config(Path toml, Path out, Path resume) {
        SaveConfig save = new SaveConfig(out, "run", SAVE_EVERY, null, null, null, null, null, true, false,
                dev.loraid.tensor.DType.F32, false, null);
        // batch 1 over 5 items with accumulation 2: updates span batches, and an epoch ends mid-window
        TrainConfig c = TrainFixture.config(toml, out, "run", STEPS, TrainFixture.network(4, null, 12), save, resume);
        return new TrainConfig(c.dit(), null, null, false, null, c.datasetConfig(), c.workingDir(), c.device(), c.mixedPrecision(),
                true, c.network(), c.optimizer(), c.timesteps(), STEPS, null, 2, c.seed(), save, null, resume, null, null, c.fp8());
    }

    @Test
    void a_killed_run_resumed_from_its_state_ends_bit_identical(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 5, 1);
        Path killed = dir.resolve("killed");
        Files.createDirectories(killed);
        Process child = new ProcessBuilder(javaCommand(toml, killed)).redirectErrorStream(true)
                .redirectOutput(dir.resolve("child.log").toFile()).start();
        Path log = killed.resolve("run-log.jsonl");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        // kill it once a state exists and a few more steps ran
        while (loggedSteps(log) < SAVE_EVERY + 10) {
            assertTrue(child.isAlive(), () -> "the child run ended early: " + read(dir.resolve("child.log")));
            assertTrue(System.nanoTime() < deadline, "the child run did not reach step 40 in 120 s");
            Thread.sleep(20);
        }
        child.destroyForcibly(); // SIGKILL
        child.waitFor();
        int reached = loggedSteps(log);
        assertTrue(reached < STEPS, "the child finished before it was killed");
        // the newest complete state; the kill may have hit the run while it wrote the next one
        int at = reached / SAVE_EVERY * SAVE_EVERY;
        Path state = killed.resolve("run" + SaveConfig.stepSuffix(at) + "-state");
        if (!Files.isDirectory(state)) {
            at -= SAVE_EVERY;
            state = killed.resolve("run" + SaveConfig.stepSuffix(at) + "-state");
        }
        assertTrue(Files.isDirectory(state), "no state at step " + at);

        Trainer.Result resumed = Trainer.run(config(toml, killed, state), TrainListener.SILENT);
        Path straight = dir.resolve("straight");
        Trainer.Result uninterrupted = Trainer.run(config(toml, straight, null), TrainListener.SILENT);

        assertEquals(STEPS, resumed.steps());
        TrainerTest.assertSameTensors(uninterrupted.lora(), resumed.lora());
        assertEquals(Files.readAllLines(straight.resolve("run-log.jsonl")), Files.readAllLines(log));
        assertEquals(STEPS, Files.readAllLines(log).size());
        // the intermediate files agree too, and no temporary state folder was left behind
        TrainerTest.assertSameTensors(straight.resolve("run" + SaveConfig.stepSuffix(at + SAVE_EVERY) + ".safetensors"),
                killed.resolve("run" + SaveConfig.stepSuffix(at + SAVE_EVERY) + ".safetensors"));
        try (var files = Files.list(killed)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith(".")), "a temporary file was left in " + killed);
        }
    }

    private static List<String> javaCommand(Path toml, Path out) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Dloraid.testdata=" + System.getProperty("loraid.testdata"));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(KillAndResumeTest.class.getName());
        cmd.add(toml.toString());
        cmd.add(out.toString());
        return cmd;
    }

    private static int loggedSteps(Path log) throws IOException {
        if (!Files.exists(log)) {
            return 0;
        }
        return (int) Files.readAllLines(log).stream().filter(l -> l.endsWith("}")).count();
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
