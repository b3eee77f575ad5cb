package dev.loraid.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.Golden;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraNetwork;
import dev.loraid.core.lora.LoraWeights;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.wan.WanCheckpoint;
import dev.loraid.wan.WanInputs;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanTaps;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The trainer end to end on the golden tiny Wan model and a synthetic cache set (issue 11's tests). */
class TrainerTest {

    /** Collects every step's loss. */
    private static final class Losses implements TrainListener {
        final List<Double> losses = new ArrayList<>();

        @Override
        public void info(String message) {
        }

        @Override
        public void warn(String message) {
        }

        @Override
        public void stepped(Step step) {
            losses.add(step.loss());
        }

        double mean(int from, int to) {
            return losses.subList(from, to).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
        }
    }

    @Test
    void training_lowers_the_loss_and_one_seed_gives_identical_bytes(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 4, 2);
        Losses first = new Losses();
        Trainer.Result a = Trainer.run(TrainFixture.config(toml, dir.resolve("a"), "run", 240, TrainFixture.network(4, null, 12), null,
                null), first);
        assertEquals(240, a.steps());
        assertEquals(240, first.losses.size());
        double start = first.mean(0, 30);
        double end = first.mean(210, 240);
        assertTrue(start / end > 1.5, "mean loss of the first 30 steps " + start + ", of the last 30 " + end);

        Losses second = new Losses();
        Trainer.Result b = Trainer.run(TrainFixture.config(toml, dir.resolve("b"), "run", 240, TrainFixture.network(4, null, 12), null,
                null), second);
        assertEquals(first.losses, second.losses);
        assertSameTensors(a.lora(), b.lora());
    }

    @Test
    void loraid_2_trains_only_its_blocks_and_leaves_the_blocks_before_it_bit_identical(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 4, 2);
        Trainer.Result r = Trainer.run(TrainFixture.config(toml, dir.resolve("out"), "id2", 30, TrainFixture.network(4, 2, 2), null,
                null), TrainListener.SILENT);
        try (SafetensorsFile f = SafetensorsFile.open(r.lora())) {
            assertEquals(2 * 10 * 3, f.names().size());
            for (String n : f.names()) {
                assertTrue(n.startsWith("lora_unet_blocks_2_") || n.startsWith("lora_unet_blocks_3_"), n);
            }
            Map<String, String> m = f.metadata();
            assertEquals("2", m.get("ss_loraid"));
            assertEquals("2", m.get("ss_loraid_block_start"));
            assertEquals("3", m.get("ss_loraid_block_end"));
            assertEquals("4", m.get("ss_loraid_total_blocks"));
            assertEquals("2", m.get("ss_loraid_blocks_per_loraid"));
            assertEquals("30", m.get("ss_steps"));
            assertEquals("networks.lora_wan", m.get("ss_network_module"));
            assertEquals("shift", m.get("ss_timestep_sampling"));
            assertFalse(m.values().stream().anyMatch(String::isEmpty), "no metadata value may be empty");
        }
        try (WanCheckpoint ck = WanCheckpoint.open(TrainFixture.TINY, WanPresets.TINY);
                SafetensorsFile golden = SafetensorsFile.open(Golden.file("wan_tiny_forward.safetensors"))) {
            WanModel model = ck.model();
            WanInputs in = WanInputs.of(golden.tensor("x"), golden.tensor("t"), golden.tensor("context"));
            Map<String, Tensor> base = blockOutputs(model, in);
            LoraNetwork net = LoraNetwork.attach(model, LoraWeights.of(LoraFiles.read(r.lora()), Reporter.SILENT), 1.0);
            Map<String, Tensor> with = blockOutputs(model, in);
            net.detach();
            Golden.assertSameBytes("block0.out", base.get("block0.out"), with.get("block0.out"));
            Golden.assertSameBytes("block1.out", base.get("block1.out"), with.get("block1.out"));
            assertFalse(java.util.Arrays.equals(base.get("block2.out").toDoubleArray(), with.get("block2.out").toDoubleArray()),
                    "the trained LoRA changes block 2");
        }
    }

    @Test
    void samples_above_the_boundary_reach_the_high_noise_expert_only(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 2, 1);
        // an expert whose output is NaN: any batch routed to it fails the run with a non-finite loss
        Path broken = dir.resolve("broken.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(TrainFixture.TINY)) {
            Map<String, Tensor> t = new HashMap<>();
            for (String n : f.names()) {
                t.put(n, n.equals("head.head.bias") ? Tensor.of(nanArray(f.tensor(n).numel()), f.tensor(n).shape().toArray()) : f.tensor(n));
            }
            dev.loraid.tensor.safetensors.SafetensorsWriter.write(broken, t, f.metadata()); // with the config metadata
        }
        TimestepConfig high = new TimestepConfig(TimestepSampling.UNIFORM, 1.0, 1.0, WeightingScheme.NONE, 0, 1, 1.29, 600, 1000,
                false, null);
        TimestepConfig low = new TimestepConfig(TimestepSampling.UNIFORM, 1.0, 1.0, WeightingScheme.NONE, 0, 1, 1.29, 0, 400, false,
                null);
        // timesteps ≥ 601 with boundary 0.5: all high-noise; the low-noise expert (--dit) is broken and never used
        Trainer.run(dual(toml, dir.resolve("h"), broken, TrainFixture.TINY, high), TrainListener.SILENT);
        // timesteps ≤ 401: all low-noise; now the high-noise expert is the broken one
        Trainer.run(dual(toml, dir.resolve("l"), TrainFixture.TINY, broken, low), TrainListener.SILENT);
        // and the broken expert really breaks a run that reaches it
        assertThrows(ArithmeticException.class, () -> Trainer.run(dual(toml, dir.resolve("x"), TrainFixture.TINY, broken, high),
                TrainListener.SILENT));
    }

    private static TrainConfig dual(Path toml, Path out, Path lowDit, Path highDit, TimestepConfig timesteps) {
        TrainConfig c = TrainFixture.config(toml, out, "dual", 6, TrainFixture.network(4, null, 12), null, null);
        return new TrainConfig(lowDit, highDit, 0.5, false, null, c.datasetConfig(), c.workingDir(), c.device(), c.mixedPrecision(),
                false, c.network(), c.optimizer(), timesteps, c.maxTrainSteps(), null, 1, c.seed(), c.save(), null, null, null);
    }

    private static float[] nanArray(long n) {
        float[] a = new float[(int) n];
        java.util.Arrays.fill(a, Float.NaN);
        return a;
    }

    private static Map<String, Tensor> blockOutputs(WanModel model, WanInputs in) {
        Map<String, Tensor> taps = new HashMap<>();
        WanTaps keep = (name, t) -> {
            if (name.endsWith(".out")) {
                try (MemoryScope outside = MemoryScope.suspend()) {
                    taps.put(name, t.copy());
                }
            }
        };
        model.forward(in, keep);
        return taps;
    }

    static void assertSameTensors(Path a, Path b) throws Exception {
        try (SafetensorsFile x = SafetensorsFile.open(a); SafetensorsFile y = SafetensorsFile.open(b)) {
            assertEquals(x.names(), y.names());
            for (String n : x.names()) {
                Golden.assertSameBytes(n, x.tensor(n), y.tensor(n));
            }
        }
        assertTrue(Files.size(a) > 0);
    }
}
