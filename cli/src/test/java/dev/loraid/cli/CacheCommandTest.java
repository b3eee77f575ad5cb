package dev.loraid.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code loraid cache}: latent caches through the tiny VAE, text caches through the tiny UMT5, the trainer reading them. */
class CacheCommandTest {
    @TempDir
    Path work;

    private static String golden(String name) {
        return Path.of(System.getProperty("loraid.testdata"), "golden", name).toString();
    }

    private void dataset() throws IOException {
        Files.createDirectories(work.resolve("images"));
        ImageIO.write(new BufferedImage(50, 30, BufferedImage.TYPE_3BYTE_BGR), "png", work.resolve("images/a.png").toFile());
        Files.writeString(work.resolve("images/a.txt"), "red square\n");
        ImageIO.write(new BufferedImage(48, 32, BufferedImage.TYPE_3BYTE_BGR), "png", work.resolve("images/b.png").toFile());
        Files.writeString(work.resolve("dataset.toml"), """
            [general]
            resolution = [48, 32]
            caption_extension = ".txt"
            enable_bucket = true

            [[datasets]]
            image_directory = "images"
            cache_directory = "cache"
            """);
    }

    @Test
    void writesTextCaches() throws IOException {
        dataset();
        Files.writeString(work.resolve("images/b.txt"), "a small blue circle");
        CliRun r = CliRun.run("cache", "--dataset_config", work.resolve("dataset.toml").toString(), "--working_dir",
            work.toString(), "--t5", golden("umt5_tiny_weights.safetensors"), "--tokenizer",
            golden("spm_tiny_tokenizer.json"), "--device", "cpu", "--num_workers", "2", "--quiet");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("2 written"), r.out());
        try (SafetensorsFile f = SafetensorsFile.open(work.resolve("cache/a_wan_te.safetensors"))) {
            assertEquals(List.of("varlen_t5_bfloat16"), f.names());
            assertEquals(DType.BF16, f.info("varlen_t5_bfloat16").dtype());
            assertEquals("red square", f.metadata().get("caption1"));
            assertEquals("wan", f.metadata().get("architecture"));
            assertEquals("1.0.1", f.metadata().get("format_version"));
        }
        // --skip_existing keeps both
        r = CliRun.run("cache", "--dataset_config", work.resolve("dataset.toml").toString(), "--working_dir",
            work.toString(), "--t5", golden("umt5_tiny_weights.safetensors"), "--tokenizer",
            golden("spm_tiny_tokenizer.json"), "--skip_existing", "--quiet");
        assertTrue(r.out().contains("0 written, 2 existing kept"), r.out());
    }

    @Test
    void missingCaptionNamesTheFileAndSkipErrorsListsIt() throws IOException {
        dataset();
        String[] base = {"cache", "--dataset_config", work.resolve("dataset.toml").toString(), "--working_dir",
            work.toString(), "--t5", golden("umt5_tiny_weights.safetensors"), "--tokenizer",
            golden("spm_tiny_tokenizer.json"), "--quiet"};
        CliRun r = CliRun.run(base);
        assertEquals(1, r.code());
        assertTrue(r.err().contains("b.txt") && r.err().contains("--skip_errors"), r.err());
        String[] skip = java.util.Arrays.copyOf(base, base.length + 1);
        skip[base.length] = "--skip_errors";
        r = CliRun.run(skip);
        assertEquals(1, r.code());
        assertTrue(r.out().contains("1 written") && r.out().contains("skipped") && r.out().contains("b.txt"), r.out());
        assertTrue(Files.exists(work.resolve("cache/a_wan_te.safetensors")));
        assertFalse(Files.exists(work.resolve("cache/b_wan_te.safetensors")));
    }

    /** The tiny VAE's latent statistics (4 channels, not Wan 2.1's 16), from its golden file. */
    private Path stats() throws IOException {
        Path stats = work.resolve("stats.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(Path.of(golden("vae_tiny_forward.safetensors")))) {
            dev.loraid.tensor.safetensors.SafetensorsWriter.write(stats, java.util.Map.of("latents_mean", f.tensor("latents_mean").copy(),
                "latents_std", f.tensor("latents_std").copy()), java.util.Map.of());
        }
        return stats;
    }

    /** Upstream's --debug_mode is refused with the reason; its other flags (--vae_cache_cpu …) are accepted with a notice. */
    @Test
    void upstreamsOtherFlagsCarryOver() throws IOException {
        dataset();
        CliRun debug = CliRun.run("cache", "--dataset_config", work.resolve("dataset.toml").toString(), "--vae",
            golden("vae_tiny_weights.safetensors"), "--debug_mode", "image");
        assertEquals(2, debug.code(), debug.err());
        assertTrue(debug.err().contains("--debug_mode is not supported: the dataset viewer"), debug.err());
        Files.writeString(work.resolve("images/b.txt"), "a small blue circle");
        CliRun r = CliRun.run("cache", "--dataset_config", work.resolve("dataset.toml").toString(), "--working_dir",
            work.toString(), "--t5", golden("umt5_tiny_weights.safetensors"), "--tokenizer", golden("spm_tiny_tokenizer.json"),
            "--vae_cache_cpu", "--console_width", "80");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("--vae_cache_cpu has no effect here") && r.err().contains("--console_width has no effect"),
            r.err());
    }

    /** --one_frame reaches the cacher: without --clip it stops before encoding, naming both flags. */
    @Test
    void oneFrameNeedsTheClip() throws IOException {
        dataset();
        CliRun r = CliRun.run("cache", "--dataset_config", work.resolve("dataset.toml").toString(), "--working_dir",
            work.toString(), "--vae", golden("vae_tiny_weights.safetensors"), "--vae_latent_stats", stats().toString(),
            "--one_frame", "--quiet");
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("--one_frame needs a CLIP encoder (--clip)"), r.err());
    }

    @Test
    void theTinyVaeAndUmt5MakeCachesTheTrainerConsumes() throws IOException {
        dataset();
        Files.writeString(work.resolve("images/b.txt"), "a small blue circle");
        for (String name : List.of("a", "b")) { // pictures with something in them
            BufferedImage img = ImageIO.read(work.resolve("images/" + name + ".png").toFile());
            for (int y = 0; y < img.getHeight(); y++) {
                for (int x = 0; x < img.getWidth(); x++) {
                    img.setRGB(x, y, (x * 5 << 16) | (y * 7 << 8) | (name.equals("a") ? 200 : 40));
                }
            }
            ImageIO.write(img, "png", work.resolve("images/" + name + ".png").toFile());
        }
        Path stats = stats();
        CliRun r = CliRun.run("cache", "--dataset_config", work.resolve("dataset.toml").toString(), "--working_dir",
            work.toString(), "--vae", golden("vae_tiny_weights.safetensors"), "--vae_latent_stats", stats.toString(),
            "--t5", golden("umt5_tiny_weights.safetensors"), "--tokenizer", golden("spm_tiny_tokenizer.json"),
            "--text_len", "8", "--quiet");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("latent caches: 2 written") && r.out().contains("text encoder caches: 2 written"), r.out());
        try (SafetensorsFile f = SafetensorsFile.open(work.resolve("cache/a_0050x0030_wan.safetensors"))) {
            assertEquals(List.of("latents_1x4x6_bfloat16"), f.names());
            assertEquals(DType.BF16, f.info("latents_1x4x6_bfloat16").dtype());
            assertEquals(List.of(4L, 1L, 4L, 6L), java.util.Arrays.stream(f.tensor("latents_1x4x6_bfloat16").shape().toArray()).boxed().toList());
        }
        // --i2v adds the I2V conditioning; for a picture (one frame) its latent channels are the picture's latent
        r = CliRun.run("cache", "--dataset_config", work.resolve("dataset.toml").toString(), "--working_dir",
            work.toString(), "--vae", golden("vae_tiny_weights.safetensors"), "--vae_latent_stats", stats.toString(),
            "--i2v", "--quiet");
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile f = SafetensorsFile.open(work.resolve("cache/a_0050x0030_wan.safetensors"))) {
            assertEquals(List.of("latents_1x4x6_bfloat16", "latents_image_1x4x6_bfloat16"), f.names());
            double[] latent = f.tensor("latents_1x4x6_bfloat16").toDoubleArray();
            double[] y = f.tensor("latents_image_1x4x6_bfloat16").toDoubleArray();
            assertEquals(8 * 24, y.length);
            for (int i = 0; i < 4 * 24; i++) {
                assertEquals(1.0, y[i], "mask");
            }
            assertArrayEquals(latent, java.util.Arrays.copyOfRange(y, 4 * 24, 8 * 24), 0.0);
        }
        // --clip (implying --i2v, as upstream) adds the first frame's CLIP tokens, F16 under the latent dtype's name
        Path clip = work.resolve("clip.safetensors");
        java.util.Map<String, dev.loraid.tensor.Tensor> tower = new java.util.LinkedHashMap<>();
        dev.loraid.wan.clip.ClipWeights.random(new dev.loraid.wan.clip.ClipVisionConfig(160, 3, 2, 64, 14, 28), 1)
            .forEach((k, t) -> tower.put("visual." + k, t));
        dev.loraid.tensor.safetensors.SafetensorsWriter.write(clip, tower, java.util.Map.of());
        r = CliRun.run("cache", "--dataset_config", work.resolve("dataset.toml").toString(), "--working_dir",
            work.toString(), "--vae", golden("vae_tiny_weights.safetensors"), "--vae_latent_stats", stats.toString(),
            "--clip", clip.toString(), "--quiet");
        assertEquals(0, r.code(), r.err());
        try (SafetensorsFile f = SafetensorsFile.open(work.resolve("cache/a_0050x0030_wan.safetensors"))) {
            assertEquals(List.of("latents_1x4x6_bfloat16", "latents_image_1x4x6_bfloat16", "clip_bfloat16"), f.names());
            assertEquals(DType.F16, f.info("clip_bfloat16").dtype());
            assertEquals(List.of(5L, 160L), java.util.Arrays.stream(f.tensor("clip_bfloat16").shape().toArray()).boxed().toList());
        }
        // the trainer reads them: a few LoRA steps on the tiny T2V DiT, which (as upstream) ignores latents_image
        CliRun train = CliRun.run("train", "--dit", golden("wan_tiny_weights.safetensors"), "--dataset_config",
            work.resolve("dataset.toml").toString(), "--network_dim", "4", "--max_train_steps", "4", "--seed", "1",
            "--learning_rate", "1e-3", "--output_dir", work.resolve("out").toString(), "--output_name", "c", "--quiet");
        assertEquals(0, train.code(), train.err());
        assertTrue(train.out().contains("trained 4 steps"), train.out());
    }

    @Test
    void usageErrors() throws IOException {
        dataset();
        CliRun r = CliRun.run("cache", "--dataset_config", work.resolve("dataset.toml").toString(), "--working_dir", work.toString(),
            "--vae", golden("wan_tiny_weights.safetensors"));
        assertEquals(1, r.code());
        assertTrue(r.err().contains("not a Wan VAE"), r.err());
        r = CliRun.run("cache", "--dataset_config", work.resolve("dataset.toml").toString(), "--working_dir", work.toString(),
            "--vae", golden("vae_tiny_weights.safetensors"));
        assertEquals(1, r.code());
        assertTrue(r.err().contains("4 latent channels") && r.err().contains("latents_mean"), r.err());
        r = CliRun.run("cache", "--dataset_config", work.resolve("dataset.toml").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("nothing to cache"), r.err());
        r = CliRun.run("cache", "--dataset_config", "ds.toml", "--t5", "t5.safetensors");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--tokenizer"), r.err());
        r = CliRun.run("cache", "--dataset_config", "ds.toml", "--vae", "v", "--vae_dtype", "int8");
        assertEquals(2, r.code());
        r = CliRun.run("cache", "--dataset_config", "ds.toml", "--t5", "t5", "--tokenizer", "tok", "--clip", "clip.safetensors");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--clip caches beside the latents: give --vae VAE too"), r.err());
        assertTrue(CliRun.run("--help").out().contains("cache"));
    }
}
