package dev.loraid.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.LoraidException;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LycorisModule;
import dev.loraid.core.lora.NetworkModule;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.wan.quant.Fp8Load;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --network_module networks.loha} and {@code networks.lokr} (training.md §2.10) end to end on the tiny Wan model:
 * the same first loss as a LoRA run (every update starts at zero, the noise streams are the network's neighbours), a
 * falling loss, musubi's keys in the saved file (read back by the LyCORIS loader generation uses), and
 * {@code --network_weights} with {@code --dim_from_weights} restarting exactly where a file left off.
 */
class LohaLokrTrainingTest {
    private static final int STEPS = 150;

    private static NetworkConfig network(NetworkModule module, int dim, List<String> args, Path weights, boolean fromWeights) {
        return new NetworkConfig(module, dim, dim / 2.0, 0, args, weights, fromWeights, null, null, 12);
    }

    private static TrainerTest.Losses train(Path toml, Path out, NetworkConfig network, long steps) {
        TrainerTest.Losses losses = new TrainerTest.Losses();
        Trainer.run(TrainFixture.config(toml, out, "run", steps, network, null, null), losses);
        return losses;
    }

    @Test
    void loha_and_lokr_start_where_lora_starts_learn_and_save_musubis_keys(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 4, 2);
        double loraFirst = train(toml, dir.resolve("lora"), network(NetworkModule.LORA, 4, List.of(), null, false), 1).losses.getFirst();
        Map<NetworkModule, Set<String>> parts = Map.of(
                NetworkModule.LOHA, Set.of("alpha", "hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b"),
                NetworkModule.LOKR, Set.of("alpha", "lokr_w1", "lokr_w2_a", "lokr_w2_b"));
        for (NetworkModule module : List.of(NetworkModule.LOHA, NetworkModule.LOKR)) {
            Path out = dir.resolve(module.name());
            TrainerTest.Losses l = train(toml, out, network(module, 4, List.of("factor=2"), null, false), STEPS);
            assertEquals(loraFirst, l.losses.getFirst(), 0.0, module + ": ΔW starts at zero");
            double start = l.mean(0, 15);
            double end = l.mean(STEPS - 15, STEPS);
            assertTrue(start / end > 1.2, module + ": mean loss of the first 15 steps " + start + ", of the last 15 " + end);

            Path file = out.resolve("run.safetensors");
            try (SafetensorsFile f = SafetensorsFile.open(file)) {
                Map<String, Set<String>> byModule = new java.util.TreeMap<>();
                for (String key : f.names()) {
                    String part = LycorisModule.partOf(key);
                    byModule.computeIfAbsent(key.substring(0, key.length() - part.length() - 1), k -> new TreeSet<>()).add(part);
                }
                assertEquals(40, byModule.size()); // every Linear of the tiny model's blocks, as a LoRA run adapts
                byModule.forEach((name, got) -> assertEquals(parts.get(module), got, name));
                assertEquals(module.moduleName(), f.metadata().get("ss_network_module"));
            }
            // what generate --lycoris and merge --lycoris read
            LycorisModule.read(LoraFiles.read(file)).values().forEach(m -> assertEquals(module.name().toLowerCase(), m.algorithm()));
        }
    }

    /** Rank and module dropout draw from the replayed stream: the recomputed blocks drop what the first pass dropped. */
    @Test
    void gradient_checkpointing_with_dropouts_trains_the_same_bits(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 2, 2);
        for (NetworkModule module : List.of(NetworkModule.LOHA, NetworkModule.LOKR)) {
            NetworkConfig net = network(module, 4, List.of("rank_dropout=0.3", "module_dropout=0.2"), null, false);
            TrainConfig plain = TrainFixture.config(toml, dir.resolve(module + "plain"), "run", 8, net, null, null);
            TrainerTest.Losses a = new TrainerTest.Losses();
            TrainerTest.Losses b = new TrainerTest.Losses();
            Path pa = Trainer.run(plain, a).lora();
            Path pb = Trainer.run(TrainFixture.checkpointed(TrainFixture.config(toml, dir.resolve(module + "ckpt"), "run", 8, net, null,
                    null)), b).lora();
            assertEquals(a.losses, b.losses, module.toString());
            TrainerTest.assertSameTensors(pa, pb);
        }
    }

    /**
     * A state saved at step 3 resumes to the bytes of the run that never stopped (factors and moments by their keys),
     * with module dropout too: a module it skips has no gradient (not a zero one) and the step leaves it alone, in the
     * straight run as in the resumed one (the LoRA case failed before the optimizer cleared gradients to none).
     */
    @Test
    void loha_and_lokr_runs_resume_bit_identical(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 2, 1);
        for (NetworkModule module : List.of(NetworkModule.LOHA, NetworkModule.LOKR, NetworkModule.LORA)) {
            NetworkConfig net = network(module, 4, List.of("rank_dropout=0.2", "module_dropout=0.3"), null, false);
            Path straightDir = dir.resolve(module + "straight");
            SaveConfig save = new SaveConfig(straightDir, "run", 3, null, null, null, null, null, true, false,
                    dev.loraid.tensor.DType.F32, false, null);
            Path straight = Trainer.run(TrainFixture.config(toml, straightDir, "run", 6, net, save, null), TrainListener.SILENT).lora();
            Path state = straightDir.resolve("run" + SaveConfig.stepSuffix(3) + "-state");
            Path resumedDir = dir.resolve(module + "resumed");
            SaveConfig resumedSave = new SaveConfig(resumedDir, "run", 3, null, null, null, null, null, true, false,
                    dev.loraid.tensor.DType.F32, false, null);
            TrainerTest.Losses after = new TrainerTest.Losses();
            Trainer.Result resumed = Trainer.run(TrainFixture.config(toml, resumedDir, "run", 6, net, resumedSave, state), after);
            assertEquals(6, resumed.steps());
            assertEquals(3, after.losses.size(), "the resumed run starts at step 4");
            TrainerTest.assertSameTensors(straight, resumed.lora());
        }
    }

    @Test
    void network_weights_restart_loha_and_lokr_with_the_rank_of_the_file(@TempDir Path dir) throws Exception {
        Path toml = TrainFixture.dataset(dir, 2, 1);
        for (NetworkModule module : List.of(NetworkModule.LOHA, NetworkModule.LOKR)) {
            Path a = dir.resolve(module + "a");
            train(toml, a, network(module, 2, List.of(), null, false), 10);
            Path first = a.resolve("run.safetensors");
            // rank and alpha from the file, not from --network_dim 8; one update at lr 1e-30 moves nothing a float shows
            NetworkConfig fromFile = network(module, 8, List.of(), first, true);
            TrainConfig base = TrainFixture.config(toml, dir.resolve(module + "b"), "run", 1, fromFile, null, null);
            OptimizerConfig frozen = new OptimizerConfig("AdamW", List.of(), 1e-30, "constant", "0", "0", 1, 1, null, null, null, 1);
            TrainConfig c = new TrainConfig(base.dit(), null, null, false, null, toml, base.workingDir(), base.device(),
                    base.mixedPrecision(), false, fromFile, frozen, base.timesteps(), 1, null, 1, base.seed(), base.save(), null, null,
                    null, null, Fp8Load.NONE);
            Path second = Trainer.run(c, TrainListener.SILENT).lora();
            try (SafetensorsFile x = SafetensorsFile.open(first); SafetensorsFile y = SafetensorsFile.open(second)) {
                assertEquals(x.names(), y.names());
                for (String n : x.names()) {
                    assertArrayEquals(x.tensor(n).toDoubleArray(), y.tensor(n).toDoubleArray(), 1e-7, n);
                }
            }
        }
        // a file of another network is refused naming a tensor and the network
        Path lohaFile = dir.resolve(NetworkModule.LOHA + "a").resolve("run.safetensors");
        LoraidException e = assertThrows(LoraidException.class, () -> Trainer.run(TrainFixture.config(toml, dir.resolve("wrong"),
                "run", 1, network(NetworkModule.LOKR, 2, List.of(), lohaFile, false), null, null), TrainListener.SILENT));
        assertTrue(e.getMessage().contains(".hada_w1_a is a loha tensor, the network is networks.lokr"), e.getMessage());
    }
}
