package dev.loraid.core.demo;

import dev.loraid.core.lora.NetworkModule;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.generate.Umt5TextEncoder;
import dev.loraid.core.merge.LoraMerger;
import dev.loraid.core.merge.MergeRequest;
import dev.loraid.core.train.NetworkConfig;
import dev.loraid.core.train.Trainer;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Rebuilds the demo's base model from fixed seeds (what {@code loraid demo --rebuild-base} runs). The trainer trains
 * LoRAs only, so the base is trained as a LoRA too: a full-rank LoRA (rank = dim = 64, alpha 64) on every linear layer
 * of every block, over a seeded random DiT ({@link DemoModel#writeRandom}), on {@link #SCENES} captioned base scenes
 * ({@link DemoScenes#base}), then merged into the random DiT with {@link LoraMerger} ({@code loraid merge}). The
 * embeddings, modulations and head keep their initial values ({@link DemoModel#writeRandom}: random, except the patch
 * embedding and head, an identity path). One seed gives the same file on the same machine.
 */
public final class DemoBase {
    public static final long SEED = 1234;
    public static final int SCENES = 1024;
    /** 64: velocity MSE at σ = 0.3 of 0.14 after 32 epochs, 0.12 after 64, and visibly cleaner pictures. */
    public static final int EPOCHS = 64;
    public static final int BATCH = 16;
    /** AdamW's rate: at 8 epochs, 6e-3 reached velocity MSE 0.28 at σ = 0.3 where 2e-3 reached 0.37 (1.5e-2: 0.27). */
    static final double LEARNING_RATE = 6e-3;

    private DemoBase() {
    }

    /** Trains and writes the base to {@code output}; {@code work} holds the dataset, random DiT and LoRA. */
    public static Path rebuild(Path work, Path output, int epochs, Device device, Reporter out) {
        try {
            long t0 = System.nanoTime();
            Files.createDirectories(work);
            Path tokenizer = DemoText.writeTokenizer(work);
            Path t5 = DemoText.writeEncoder(work);
            SplittableRandom r = new SplittableRandom(SEED);
            List<DemoScenes.Scene> scenes = new ArrayList<>();
            for (int i = 0; i < SCENES; i++) {
                scenes.add(DemoScenes.base(r));
            }
            Path toml;
            try (Umt5TextEncoder text = Umt5TextEncoder.open(t5, tokenizer, DemoModel.CONFIG.textLen(), Device.CPU)) {
                toml = DemoDataset.write(work.resolve("base-data"), scenes, text, BATCH, 16);
            }
            out.info("base: " + SCENES + " captioned scenes cached in " + work.resolve("base-data"));
            Path random = DemoModel.writeRandom(work.resolve("random-dit.safetensors"), SEED);
            int rank = DemoModel.CONFIG.dim();
            NetworkConfig net = new NetworkConfig(NetworkModule.LORA, rank, rank, 0, List.of(), null, false, null, null, 12);
            Trainer.Result res = DemoTraining.run(DemoTraining.config(random, toml, work.resolve("base-lora"), "base", net, LEARNING_RATE,
                    DemoTraining.logitNormal(), epochs, null, SEED, device), "base (full-rank LoRA)", out);
            Files.createDirectories(output.toAbsolutePath().getParent());
            LoraMerger.merge(new MergeRequest(random, List.of(res.lora()), Optional.empty(), List.of(1.0), null, false, List.of(),
                    List.of(), DType.F32, output), Reporter.SILENT);
            out.info(String.format(Locale.ROOT, "base: merged into %s (%d KiB) in %.0f s total", output, Files.size(output) / 1024,
                    (System.nanoTime() - t0) / 1e9));
            return output;
        } catch (IOException e) {
            throw new LoraidException("demo base: " + e.getMessage(), e);
        }
    }
}
