package dev.loraid.core.generate;

import dev.loraid.core.CollectingReporter;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.tensor.testing.TestDevice;
import dev.loraid.tensor.Device;
import dev.loraid.core.merge.LoraMerger;
import dev.loraid.core.merge.MergeRequest;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanVariant;
import dev.loraid.wan.sample.SolverKind;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two experts on the tiny DiT (training.md §6.5): the low-noise one is wan_tiny_weights, the high-noise one the same
 * model with lora_tiny merged in, so every step shows which expert ran it. unipc, 8 steps, shift 5 gives the integer
 * timesteps 999 972 937 892 833 749 624 416 (§6.4), so with the A14B boundary 0.875 steps 0–3 are high-noise.
 */
class DualExpertGenerationTest {
    @TempDir
    static Path dir;
    private static Path low;
    private static Path high;
    private Tensor context;
    private Tensor negative;
    private Device device;

    @BeforeEach
    void models() throws Exception {
        device = TestDevice.get();
        low = Golden.path("wan_tiny_weights.safetensors");
        high = dir.resolve("high_noise.safetensors");
        if (!high.toFile().exists()) {
            merge(low, List.of(Golden.path("lora_tiny.safetensors")), List.of(), high);
        }
        try (SafetensorsFile f = SafetensorsFile.open(Golden.path("sample_tiny.safetensors"))) {
            context = f.tensor("context").copy();
            negative = f.tensor("context_null").copy();
        }
    }

    private static void merge(Path dit, List<Path> loras, List<String> include, Path out) {
        LoraMerger.merge(new MergeRequest(dit, loras, Optional.empty(), List.of(), null, false, include, List.of(), null, out),
                Reporter.SILENT);
    }

    /** The tiny-A14B request: guidance 4 on the low-noise expert, 3 on the high-noise one. */
    private GenerateRequest dual(long seed, Double boundary) {
        GenerateRequest d = GenerateRequest.withTaskDefaults(WanPresets.get("tiny-A14B"), low, high, seed, context, negative)
                .withSize(32, 48, 1).withSampling(SolverKind.UNIPC, 8, 5.0, 4.0);
        return new GenerateRequest(d.task(), d.dit(), d.ditHighNoise(), null, null, d.solver(), d.steps(), d.flowShift(), 4.0,
                3.0, boundary, null, null, null, seed, d.height(), d.width(), d.frames(), context, negative, null, null, null,
                null, 0, null, null);
    }

    /** The residency runs on the device under test, with a LoRA on each expert (moved with it when offloading). */
    private GenerateRequest dualOnDevice(long seed, ExpertResidency residency) {
        LoraSelection id1 = new LoraSelection(List.of(Golden.path("lora_id1.safetensors")), List.of(), Optional.empty(), null,
                false);
        LoraSelection id2 = new LoraSelection(List.of(Golden.path("lora_id2.safetensors")), List.of(0.5), Optional.empty(),
                null, false);
        return dual(seed, 0.875).withLoras(id1, id2).withDevice(device).withResidency(residency);
    }

    /** One DiT for every step, at one guidance scale (the tiny-v22 task: the experts' config without experts). */
    private Tensor single(Path dit, long seed, double guidance) throws Exception {
        WanVariant task = WanPresets.get("tiny-v22");
        return Generator.run(GenerateRequest.withTaskDefaults(task, dit, null, seed, context, negative).withSize(32, 48, 1)
                .withSampling(SolverKind.UNIPC, 8, 5.0, guidance), new CollectingReporter()).latent();
    }

    @Test
    void theBoundaryRoutesEachStepToItsExpert() throws Exception {
        CollectingReporter r = new CollectingReporter();
        Tensor mixed = Generator.run(dual(9, 0.875), r).latent();
        assertTrue(r.informed("switching to the low-noise expert at step 4, t = 833"), r.infos.toString());
        // a boundary no timestep falls below keeps the high-noise expert; one above every timestep switches at step 0
        Tensor allHigh = Generator.run(dual(9, 0.0), new CollectingReporter()).latent();
        Tensor allLow = Generator.run(dual(9, 1.0), new CollectingReporter()).latent();
        assertTrue(Golden.sameBytes(single(high, 9, 3.0), allHigh), "boundary 0: the high-noise DiT at its scale throughout");
        assertTrue(Golden.sameBytes(single(low, 9, 4.0), allLow), "boundary 1: the low-noise DiT at its scale throughout");
        assertFalse(Golden.sameBytes(mixed, allHigh));
        assertFalse(Golden.sameBytes(mixed, allLow));
    }

    /** What a run reports, in order: loads, releases, moves, the switch and each finished step (not the LoRA tables). */
    private static final class Events implements Reporter {
        final List<String> seen = new ArrayList<>();

        @Override
        public void info(String message) {
            if (message.matches("(loading|releasing|moving|switching) .*")) {
                seen.add(message.replaceAll(" [^ ]+\\.safetensors", "").replaceAll(",.*", ""));
            }
        }

        @Override
        public void warn(String message) {
            seen.add("warning: " + message);
        }

        @Override
        public void progress(String task, long done, long total) {
            if (done > 0) {
                seen.add("step " + done);
            }
        }
    }

    private List<Tensor> runAll(ExpertResidency residency, Events events) throws Exception {
        List<Tensor> out = new ArrayList<>();
        Generator.runAll(List.of(dualOnDevice(3, residency), dualOnDevice(4, residency)), events, res -> out.add(res.latent()));
        return out;
    }

    @Test
    void residencyMovesTheExpertsButNotTheResult() throws Exception {
        Events both = new Events();
        Events offload = new Events();
        Events lazy = new Events();
        List<Tensor> a = runAll(ExpertResidency.BOTH, both);
        List<Tensor> b = runAll(ExpertResidency.OFFLOAD_INACTIVE, offload);
        List<Tensor> c = runAll(ExpertResidency.LAZY, lazy);
        for (int i = 0; i < 2; i++) {
            assertTrue(Golden.sameBytes(a.get(i), b.get(i)), "offload, request " + i);
            assertTrue(Golden.sameBytes(a.get(i), c.get(i)), "lazy, request " + i);
        }
        assertFalse(Golden.sameBytes(a.get(0), a.get(1)), "the two seeds differ");
        List<String> steps = List.of("step 1", "step 2", "step 3", "step 4", "switching to the low-noise expert at step 4",
                "step 5", "step 6", "step 7", "step 8");
        List<String> bothWant = new ArrayList<>(List.of("loading the low-noise DiT on " + device, "loading the high-noise DiT on " + device));
        bothWant.addAll(steps);
        bothWant.addAll(steps);
        bothWant.addAll(List.of("releasing the high-noise DiT", "releasing the low-noise DiT"));
        assertEquals(bothWant, both.seen);
        // lazy: at most one expert open at any time; the high-noise one is opened at each run's first step
        List<String> lazyRun = List.of("loading the high-noise DiT on " + device, "step 1", "step 2", "step 3", "step 4",
                "switching to the low-noise expert at step 4", "releasing the high-noise DiT",
                "loading the low-noise DiT on " + device, "step 5", "step 6", "step 7", "step 8");
        List<String> lazyWant = new ArrayList<>(lazyRun);
        lazyWant.add("releasing the low-noise DiT");
        lazyWant.addAll(lazyRun);
        lazyWant.add("releasing the low-noise DiT");
        assertEquals(lazyWant, lazy.seen);
        // offloading: the low-noise expert opened on the host first (upstream's order); on the CPU nothing moves
        assertEquals("loading the low-noise DiT on the host", offload.seen.get(0));
        assertEquals("loading the high-noise DiT on " + device, offload.seen.get(1));
    }

    /**
     * Each expert with 2 of its 4 blocks in host memory (its own block swap, LoRAs on the device) gives the bytes of
     * the whole experts, with both resident and with lazy loading; offloading the inactive expert is refused.
     */
    @Test
    void blockSwapOnBothExpertsKeepsTheResult() throws Exception {
        for (ExpertResidency residency : List.of(ExpertResidency.BOTH, ExpertResidency.LAZY)) {
            Tensor whole = Generator.run(dualOnDevice(5, residency), new CollectingReporter()).latent();
            CollectingReporter r = new CollectingReporter();
            Tensor swapped = Generator.run(dualOnDevice(5, residency).withBlocksToSwap(2), r).latent();
            assertTrue(Golden.sameBytes(whole, swapped), residency + ": block swap changed the latent");
            assertTrue(r.informed("block swap for the high-noise DiT: 2 of 4 blocks in host memory, 2 resident on " + device)
                    && r.informed("block swap for the low-noise DiT: 2 of 4 blocks in host memory, 2 resident on " + device),
                    r.infos.toString());
        }
        LoraidException e = assertThrows(LoraidException.class, () -> Generator.run(
                dualOnDevice(5, ExpertResidency.OFFLOAD_INACTIVE).withBlocksToSwap(2), new CollectingReporter()));
        assertTrue(e.getMessage().startsWith("GenerateRequest.blocksToSwap with the inactive expert offloaded"), e.getMessage());
    }

    /**
     * Per-file key filters (upstream's i-th pattern for the i-th file): lora_id1 kept for block 0 only, lora_id2 for its
     * ffn layers only, applied as adapters, give the latent of the base with each filtered file merged in turn.
     */
    @Test
    void keyPatternsFilterEachLoraFileByPosition() throws Exception {
        Path id1 = Golden.path("lora_id1.safetensors");
        Path id2 = Golden.path("lora_id2.safetensors");
        Path step1 = dir.resolve("with_block0_of_id1.safetensors");
        Path step2 = dir.resolve("with_ffn_of_id2.safetensors");
        merge(low, List.of(id1), List.of("blocks_0_"), step1);
        merge(step1, List.of(id2), List.of("_ffn_"), step2);
        WanVariant tiny = WanPresets.get("tiny");
        GenerateRequest base = GenerateRequest.withTaskDefaults(tiny, low, null, 21, context, negative).withSize(32, 48, 1)
                .withSampling(SolverKind.UNIPC, 8, 5.0, 4.0);
        LoraSelection filtered = new LoraSelection(List.of(id1, id2), List.of(), Optional.empty(), null, false,
                List.of("blocks_0_", "_ffn_"), List.of());
        Tensor adapted = Generator.run(base.withLoras(filtered, LoraSelection.NONE), new CollectingReporter()).latent();
        GenerateRequest onMerged = GenerateRequest.withTaskDefaults(tiny, step2, null, 21, context, negative).withSize(32, 48, 1)
                .withSampling(SolverKind.UNIPC, 8, 5.0, 4.0);
        Golden.assertClose("filtered adapters vs merged", Generator.run(onMerged, new CollectingReporter()).latent(), adapted,
                1e-5, 1e-5);
        LoraSelection unfiltered = new LoraSelection(List.of(id1, id2), List.of(), Optional.empty(), null, false);
        assertFalse(Golden.sameBytes(adapted, Generator.run(base.withLoras(unfiltered, LoraSelection.NONE),
                new CollectingReporter()).latent()), "the patterns drop modules");
        // an exclude pattern for every file: lora_id2's blocks 2–3 dropped from both → only lora_id1 remains
        LoraSelection onlyId1 = new LoraSelection(List.of(id1, id2), List.of(), Optional.empty(), null, false, List.of(),
                List.of("blocks_[23]_"));
        CollectingReporter r = new CollectingReporter();
        Generator.run(base.withLoras(onlyId1, LoraSelection.NONE), r);
        assertTrue(r.warned("lora_id2.safetensors: no keys left after") && r.warned("; file skipped"), r.warnings.toString());
        LoraidException e = assertThrows(LoraidException.class, () -> new LoraSelection(List.of(id1, id2), List.of(),
                Optional.empty(), null, false, List.of("a", "b", "c"), List.of()));
        assertEquals("LoraSelection.includePatterns: 3 patterns for 2 LoRA files: give none, one for every file, or one per "
                + "file in file order", e.getMessage());
    }
}
