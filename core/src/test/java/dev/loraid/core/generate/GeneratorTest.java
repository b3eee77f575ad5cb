package dev.loraid.core.generate;

import dev.loraid.core.CollectingReporter;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.core.LoraidException;
import dev.loraid.core.merge.LoraMerger;
import dev.loraid.core.merge.MergeRequest;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.wan.WanCheckpoint;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.sample.SolverKind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The generation pipeline on the tiny DiT (testdata/golden: wan_tiny_weights, sample_tiny, lora_id1/2). */
class GeneratorTest {
    @TempDir
    Path dir;

    /** unipc, 8 steps, shift 5, guidance 4, 32×48 pixels and 1 frame → latent [4, 1, 4, 6], as sample_tiny. */
    private static GenerateRequest tiny(long seed) throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(Golden.path("sample_tiny.safetensors"))) {
            return GenerateRequest.withTaskDefaults(WanPresets.get("tiny"), Golden.path("wan_tiny_weights.safetensors"), null,
                            seed, f.tensor("context").copy(), f.tensor("context_null").copy())
                    .withSize(32, 48, 1).withSampling(SolverKind.UNIPC, 8, 5.0, 4.0);
        }
    }

    @Test
    void givenTheGoldenNoiseTheResultIsSampleTinysUnipcFinal() throws Exception {
        try (SafetensorsFile f = SafetensorsFile.open(Golden.path("sample_tiny.safetensors"))) {
            CollectingReporter r = new CollectingReporter();
            GenerateResult res = Generator.run(tiny(1).withNoise(f.tensor("noise").copy()), r);
            Golden.assertClose("unipc.final", f.tensor("unipc.final"), res.latent(), 1e-4, 1e-4);
            assertEquals("8", res.metadata().get("infer_steps"));
            assertEquals("unipc", res.metadata().get("sample_solver"));
        }
    }

    @Test
    void theSeedAloneDeterminesTheLatent() throws Exception {
        Tensor a = Generator.run(tiny(42), new CollectingReporter()).latent();
        Tensor b = Generator.run(tiny(42), new CollectingReporter()).latent();
        Tensor c = Generator.run(tiny(43), new CollectingReporter()).latent();
        assertTrue(Golden.sameBytes(a, b), "same seed, same bytes");
        assertFalse(Golden.sameBytes(a, c), "another seed, another latent");
        assertEquals(List.of(4L, 1L, 4L, 6L), Arrays.stream(a.shape().toArray()).boxed().toList());
    }

    /**
     * lora_id1 (LORAID 1, ×1.0) and lora_id2 (LORAID 2, ×0.7) attached as adapters give the latent of the base merged
     * offline by {@link LoraMerger}. lora_tiny cannot join them: it adapts every layer the two LORAIDs adapt, and two
     * adapters on one layer are refused.
     */
    @Test
    void loraidsAttachedAtInferenceMatchTheOfflineMerge() throws Exception {
        List<Path> files = List.of(Golden.path("lora_id1.safetensors"), Golden.path("lora_id2.safetensors"));
        Path merged = dir.resolve("merged.safetensors");
        LoraMerger.merge(new MergeRequest(Golden.path("wan_tiny_weights.safetensors"), files, Optional.of(List.of(1, 2)),
                List.of(1.0, 0.7), 2, false, List.of(), List.of(), null, merged), new CollectingReporter());
        GenerateRequest base = tiny(7);
        LoraSelection loras = new LoraSelection(files, List.of(1.0, 0.7), Optional.of(List.of(1, 2)), 2, false);
        GenerateResult adapted = Generator.run(base.withLoras(loras, LoraSelection.NONE), new CollectingReporter());
        GenerateRequest onMerged = new GenerateRequest(base.task(), merged, null, null, null, base.solver(), base.steps(),
                base.flowShift(), base.guidanceScale(), base.guidanceScaleHighNoise(), null, null, null, null, base.seed(),
                base.height(), base.width(), base.frames(), base.context(), base.negativeContext(), null, null, null, null, 0, null, null);
        Tensor want = Generator.run(onMerged, new CollectingReporter()).latent();
        Golden.assertClose("latent with adapters vs merged", want, adapted.latent(), 1e-5, 1e-5);
        Tensor plain = Generator.run(base, new CollectingReporter()).latent();
        assertFalse(Golden.sameBytes(plain, adapted.latent()), "the LoRAs change the result");
        assertEquals(files.get(0).getFileName() + " " + files.get(1).getFileName(),
                Arrays.stream(adapted.metadata().get("lora_weight").split(" ")).map(s -> Path.of(s).getFileName().toString())
                        .reduce((x, y) -> x + " " + y).orElseThrow());

        LoraSelection three = new LoraSelection(List.of(files.get(0), files.get(1), Golden.path("lora_tiny.safetensors")),
                List.of(), Optional.empty(), 2, true);
        LoraidException e = assertThrows(LoraidException.class,
                () -> Generator.run(base.withLoras(three, LoraSelection.NONE), new CollectingReporter()));
        assertTrue(e.getMessage().contains("already carries a LoRA"), e.getMessage());
    }

    /**
     * {@code blocksToSwap} 3 of the tiny DiT's 4 blocks (one resident at a time, every block copied in as its forward
     * comes) with two LORAIDs attached gives the same bytes as the model left whole: the swap moves weights, never
     * numbers. As many blocks as the model has is refused, naming the parameter.
     */
    @Test
    void blockSwapGivesTheSameLatent() throws Exception {
        LoraSelection loras = new LoraSelection(List.of(Golden.path("lora_id1.safetensors"), Golden.path("lora_id2.safetensors")),
                List.of(1.0, 0.7), Optional.of(List.of(1, 2)), 2, false);
        GenerateRequest req = tiny(11).withLoras(loras, LoraSelection.NONE);
        Tensor whole = Generator.run(req, new CollectingReporter()).latent();
        CollectingReporter r = new CollectingReporter();
        Tensor swapped = Generator.run(req.withBlocksToSwap(3), r).latent();
        assertTrue(Golden.sameBytes(whole, swapped), "block swap changed the latent");
        assertTrue(r.infos.stream().anyMatch(m -> m.contains("3 of 4 blocks in host memory, 1 resident")), r.infos.toString());
        LoraidException e = assertThrows(LoraidException.class, () -> Generator.run(req.withBlocksToSwap(4), new CollectingReporter()));
        assertTrue(e.getMessage().contains("GenerateRequest.blocksToSwap") && e.getMessage().contains("at most 3"), e.getMessage());
    }

    /**
     * The activation dtype is the request's, on both paths: {@link Generator#run} loads the DiT with it, and
     * {@link Generator#sample} (a model already built, as the training-time sampler's) runs it for the sample and gives
     * the model its own back. BF16 activations give another latent than F32.
     */
    @Test
    void theRequestsActivationDtypeRunsTheSampleOnBothPaths() throws Exception {
        GenerateRequest f32 = tiny(3);
        GenerateRequest bf16 = tiny(3).withActivations(DType.BF16);
        Tensor loadedF32 = Generator.run(f32, new CollectingReporter()).latent();
        Tensor loadedBf16 = Generator.run(bf16, new CollectingReporter()).latent();
        assertFalse(Golden.sameBytes(loadedF32, loadedBf16), "bf16 activations changed nothing");
        try (WanCheckpoint ck = WanCheckpoint.open(Golden.path("wan_tiny_weights.safetensors"), WanPresets.get("tiny").config())) {
            WanModel model = ck.model();
            model.setActivationDType(DType.BF16);
            assertTrue(Golden.sameBytes(loadedF32, Generator.sample(model, f32, new CollectingReporter()).latent()));
            assertEquals(DType.BF16, model.activationDType(), "the model's own dtype back");
            model.setActivationDType(DType.F32);
            assertTrue(Golden.sameBytes(loadedBf16, Generator.sample(model, bf16, new CollectingReporter()).latent()));
            assertEquals(DType.F32, model.activationDType());
        }
    }

    @Test
    void outputsAreTheLatentFileAndParsablePngs() throws Exception {
        GenerateResult res = Generator.run(tiny(5), new CollectingReporter());
        LocalDateTime time = LocalDateTime.of(2026, 1, 2, 3, 4, 5, 6_000_000);
        List<Path> files = GenerateOutputs.save(res, OutputType.LATENT_IMAGES, dir, time, new int[] {4, 8, 8});
        assertEquals(List.of(dir.resolve("20260102-030405-006_5_latent.safetensors"), dir.resolve("20260102-030405-006_5_000.png")),
                files);
        try (SafetensorsFile f = SafetensorsFile.open(files.get(0))) {
            assertTrue(Golden.sameBytes(res.latent(), f.tensor("latent")));
            assertEquals("5", f.metadata().get("seeds"));
            assertEquals(LatentPreview.PROJECTION, f.metadata().get("preview_projection"));
        }
        BufferedImage img = ImageIO.read(files.get(1).toFile());
        assertEquals(48, img.getWidth());
        assertEquals(32, img.getHeight());
        int rgb = img.getRGB(8, 0); // latent pixel (0, 1)
        assertEquals(LatentPreview.level(res.latent().getDouble(0, 0, 0, 1)), (rgb >> 16) & 255);
        assertEquals(LatentPreview.level(res.latent().getDouble(2, 0, 0, 1)), rgb & 255);
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp files left");
        }
    }

    @Test
    void badRequestsAreRefusedNamingTheProblem() throws Exception {
        GenerateRequest ok = tiny(1);
        assertTrue(assertThrows(LoraidException.class, () -> Generator.run(ok.withSize(30, 48, 1), new CollectingReporter()))
                .getMessage().contains("video size 30×48"));
        assertTrue(assertThrows(LoraidException.class, () -> Generator.run(ok.withSize(32, 48, 3), new CollectingReporter()))
                .getMessage().contains("4k + 1"));
        assertTrue(assertThrows(LoraidException.class,
                () -> Generator.run(ok.withNoise(Tensor.zeros(dev.loraid.tensor.DType.F32, 4, 1, 4, 4)), new CollectingReporter()))
                .getMessage().contains("expected [4, 1, 4, 6]"));
    }
}
