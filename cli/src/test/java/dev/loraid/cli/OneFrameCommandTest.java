package dev.loraid.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanWeights;
import dev.loraid.wan.clip.ClipVisionConfig;
import dev.loraid.wan.clip.ClipWeights;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One-frame training end to end through the commands (musubi docs/wan_1f.md): {@code cache --one_frame --clip} writes
 * the one-frame cache of an image dataset with a control image, {@code train --one_frame} trains on it with the tiny
 * Wan 2.1 I2V DiT and samples one-frame inference from a prompt's --i, --ci and --of: one image per sample.
 */
class OneFrameCommandTest {
    @TempDir
    Path dir;

    private static String golden(String name) {
        return Path.of(System.getProperty("loraid.testdata"), "golden", name).toString();
    }

    private Path image(String name, int seed) throws Exception {
        BufferedImage img = new BufferedImage(48, 32, BufferedImage.TYPE_INT_RGB);
        SplittableRandom r = new SplittableRandom(seed);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 48; x++) {
                img.setRGB(x, y, r.nextInt(1 << 24));
            }
        }
        Path p = dir.resolve(name);
        Files.createDirectories(p.getParent());
        ImageIO.write(img, "png", p.toFile());
        return p;
    }

    @Test
    void cacheTrainAndSampleOneFrame() throws Exception {
        image("images/cat.png", 1);
        Files.writeString(dir.resolve("images/cat.txt"), "a cat in a hat");
        image("ctl/cat.png", 2);
        Files.writeString(dir.resolve("dataset.toml"), String.join("\n", "[general]", "resolution = [48, 32]",
                "caption_extension = \".txt\"", "batch_size = 1", "", "[[datasets]]", "image_directory = \"images\"",
                "control_directory = \"ctl\"", "cache_directory = \"cache\"", "fp_1f_clean_indices = [0]",
                "fp_1f_target_index = 1", ""));
        Map<String, dev.loraid.tensor.Tensor> tower = new java.util.LinkedHashMap<>();
        ClipWeights.random(new ClipVisionConfig(1280, 2, 16, 64, 14, 224), 3).forEach((k, t) -> tower.put("visual." + k, t));
        Path clip = dir.resolve("clip.safetensors");
        SafetensorsWriter.write(clip, tower, Map.of());
        Path stats = dir.resolve("stats.safetensors");
        try (SafetensorsFile f = SafetensorsFile.open(Path.of(golden("vae_tiny_forward.safetensors")))) {
            SafetensorsWriter.write(stats, Map.of("latents_mean", f.tensor("latents_mean").copy(), "latents_std",
                    f.tensor("latents_std").copy()), Map.of());
        }
        String[] models = {"--vae", golden("vae_tiny_weights.safetensors"), "--vae_latent_stats", stats.toString(), "--t5",
                golden("umt5_tiny_weights.safetensors"), "--tokenizer", golden("spm_tiny_tokenizer.json"), "--clip",
                clip.toString()};
        List<String> cache = new java.util.ArrayList<>(List.of("cache", "--dataset_config", dir.resolve("dataset.toml").toString(),
                "--working_dir", dir.toString(), "--one_frame", "--text_len", "8", "--quiet"));
        cache.addAll(List.of(models));
        CliRun cached = CliRun.run(cache.toArray(String[]::new));
        assertEquals(0, cached.code(), cached.err());
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("cache/cat_0048x0032_wan.safetensors"))) {
            assertTrue(f.names().contains("f_indices_int32") && f.names().contains("latents_2x4x6_bfloat16")
                    && f.names().contains("latents_image_2x4x6_bfloat16"), f.names().toString());
            assertEquals(List.of(1L, 257L, 1280L), java.util.Arrays.stream(f.info("clip_bfloat16").shape().toArray()).boxed().toList());
        }

        Path dit = dir.resolve("tiny_i2v.safetensors");
        SafetensorsWriter.write(dit, WanWeights.random(WanPresets.TINY_I2V, 6).tensors(), Map.of());
        Files.writeString(dir.resolve("prompts.txt"), "a cat in a hat --i " + dir.resolve("images/cat.png") + " --ci "
                + dir.resolve("ctl/cat.png") + " --of target_index=1,control_index=0 --w 48 --h 32 --s 2 --d 3\n");
        List<String> train = new java.util.ArrayList<>(List.of("train", "--dit", dit.toString(), "--task", "tiny-i2v-clip",
                "--dataset_config", dir.resolve("dataset.toml").toString(), "--network_dim", "4", "--max_train_steps", "2",
                "--seed", "1", "--output_dir", dir.resolve("out").toString(), "--output_name", "of",
                "--sample_prompts", dir.resolve("prompts.txt").toString(), "--sample_at_first", "--one_frame"));
        train.addAll(List.of(models));
        CliRun trained = CliRun.run(train.toArray(String[]::new));
        assertEquals(0, trained.code(), trained.err());
        assertTrue(trained.out().contains("trained 2 steps"), trained.out());
        try (Stream<Path> s = Files.list(dir.resolve("out/sample"))) {
            List<Path> samples = s.filter(p -> p.toString().endsWith(".png")).toList();
            assertEquals(1, samples.size(), "one image per one-frame sample: " + samples);
            BufferedImage frame = ImageIO.read(samples.getFirst().toFile());
            assertEquals(48, frame.getWidth());
            assertEquals(32, frame.getHeight());
        }
    }
}
