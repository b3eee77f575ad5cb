package dev.loraid.core.train;

import dev.loraid.core.lora.NetworkModule;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import dev.loraid.wan.quant.Fp8Load;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A tiny training set in musubi's cache layout (training.md §4.5–4.6), written as a Python user's caching tool would:
 * {@code <stem>_0048x0032_wan.safetensors} with {@code latents_1x4x6_bfloat16} [4, 1, 4, 6] and
 * {@code <stem>_wan_te.safetensors} with {@code varlen_t5_bfloat16} [L, 32], for the golden tiny Wan model (in_dim 4,
 * text_dim 32). Each item's latent is a smooth pattern of its own, so a LoRA has something to learn.
 */
final class TrainFixture {
    static final Path TINY = Golden.path("wan_tiny_weights.safetensors");

    private TrainFixture() {
    }

    /** Writes {@code items} cached images and {@code ds.toml} (batch {@code batchSize}) into {@code dir}; returns the TOML. */
    static Path dataset(Path dir, int items, int batchSize) throws IOException {
        Path cache = Files.createDirectories(dir.resolve("cache"));
        Files.createDirectories(dir.resolve("images"));
        SplittableRandom r = new SplittableRandom(42);
        for (int k = 0; k < items; k++) {
            float[] lat = new float[4 * 1 * 4 * 6];
            for (int i = 0; i < lat.length; i++) {
                lat[i] = (float) Math.sin(0.7 * i + 1.3 * k) * (k % 2 == 0 ? 1.0f : -0.8f);
            }
            int len = 3 + k % 3;
            float[] t5 = new float[len * 32];
            for (int i = 0; i < t5.length; i++) {
                t5[i] = (float) r.nextGaussian();
            }
            String stem = "item" + k;
            SafetensorsWriter.write(cache.resolve(stem + "_0048x0032_wan.safetensors"),
                    Map.of("latents_1x4x6_bfloat16", Tensor.of(lat, 4, 1, 4, 6).to(DType.BF16)),
                    Map.of("architecture", "wan", "width", "48", "height", "32", "format_version", "1.0.1"));
            SafetensorsWriter.write(cache.resolve(stem + "_wan_te.safetensors"),
                    Map.of("varlen_t5_bfloat16", Tensor.of(t5, len, 32).to(DType.BF16)),
                    Map.of("architecture", "wan", "caption1", "item " + k, "format_version", "1.0.1"));
        }
        Path toml = dir.resolve("ds.toml");
        Files.writeString(toml, String.join("\n", List.of(
                "[general]",
                "resolution = [48, 32]",
                "caption_extension = \".txt\"",
                "batch_size = " + batchSize,
                "enable_bucket = true",
                "",
                "[[datasets]]",
                "image_directory = \"" + dir.resolve("images") + "\"",
                "cache_directory = \"" + cache + "\"",
                "")));
        return toml;
    }

    /** A run of {@code steps} steps on the tiny model with {@code network}, shift sampling, lr 5e-3, seed 7. */
    static TrainConfig config(Path toml, Path out, String name, long steps, NetworkConfig network, SaveConfig save, Path resume) {
        OptimizerConfig optimizer = new OptimizerConfig("AdamW", List.of(), 5e-3, "constant", "0", "0", 1, 1.0, null, null, null, 1.0);
        TimestepConfig timesteps = new TimestepConfig(TimestepSampling.SHIFT, 3.0, 1.0, WeightingScheme.NONE, 0, 1, 1.29, null, null,
                false, null);
        return new TrainConfig(TINY, null, null, false, null, toml, toml.getParent(), Device.CPU, MixedPrecision.NO, false, network,
                optimizer, timesteps, steps, null, 1, 7, save == null ? SaveConfig.of(out, name) : save, null, resume, null, null, Fp8Load.NONE);
    }

    /** {@code c} with gradient checkpointing on. */
    static TrainConfig checkpointed(TrainConfig c) {
        return new TrainConfig(c.dit(), c.ditHighNoise(), c.timestepBoundary(), c.offloadInactiveDit(), c.task(), c.datasetConfig(),
                c.workingDir(), c.device(), c.mixedPrecision(), true, c.network(), c.optimizer(), c.timesteps(),
                c.maxTrainSteps(), c.maxTrainEpochs(), c.gradientAccumulationSteps(), c.seed(), c.save(), c.validation(), c.resume(),
                c.vae(), c.sampling(), c.fp8());
    }

    static NetworkConfig network(int dim, Integer loraid, int blocksPerLoraid) {
        return new NetworkConfig(NetworkModule.LORA, dim, dim, 0, List.of(), null, false, null, loraid, blocksPerLoraid);
    }
}
