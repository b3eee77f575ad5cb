package dev.loraid.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.CollectingReporter;
import dev.loraid.core.LoraidException;
import dev.loraid.core.generate.TextEncoder;
import dev.loraid.core.lora.LoraAdapter;
import dev.loraid.core.lora.LoraNetwork;
import dev.loraid.core.plan.ModuleSelector;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanVariant;
import dev.loraid.wan.WanWeights;
import dev.loraid.wan.clip.ClipVisionConfig;
import dev.loraid.wan.clip.ClipWeights;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training samples of an image-to-video task (the tiny Wan 2.2 i2v preset, random weights): each prompt's start image
 * ({@code --i}, relative to the working folder) is encoded once by the VAE at start-up and the sample keeps the prompt's
 * size, the image cropped to it as upstream's training sampler does; the prompt file is refused before training when a
 * prompt lacks its
 * image, when a text-to-video task is given one, or without a VAE.
 */
class ImageToVideoSamplingTest {
    private static final WanVariant TASK = WanPresets.get("tiny-i2v");

    private static TextEncoder encoder() {
        return new TextEncoder() {
            @Override
            public Tensor encode(String prompt) {
                SplittableRandom r = new SplittableRandom(prompt.hashCode());
                float[] v = new float[3 * 32];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) r.nextGaussian();
                }
                return Tensor.of(v, 3, 32);
            }

            @Override
            public void close() {
            }
        };
    }

    private static WanModel model() {
        return WanModel.load(WanPresets.TINY_I2V_V22, WanWeights.random(WanPresets.TINY_I2V_V22, 3));
    }

    /** A sampling run's config: prompts, the tiny VAE (null for none) and its latent statistics, in {@code dir}. */
    private static TrainConfig config(Path dir, Path prompts, Path vae) throws Exception {
        return config(dir, prompts, vae, null);
    }

    private static TrainConfig config(Path dir, Path prompts, Path vae, Path clip) throws Exception {
        return config(dir, prompts, vae, clip, false);
    }

    private static TrainConfig config(Path dir, Path prompts, Path vae, Path clip, boolean oneFrame) throws Exception {
        Path stats = dir.resolve("vae_stats.safetensors");
        try (SafetensorsFile v = SafetensorsFile.open(Golden.path("vae_tiny_forward.safetensors"))) {
            SafetensorsWriter.write(stats, Map.of("latents_mean", v.tensor("latents_mean").copy(), "latents_std",
                    v.tensor("latents_std").copy()), Map.of());
        }
        TrainConfig c = TrainFixture.config(dir.resolve("ds.toml"), dir.resolve("out"), "i", 1, TrainFixture.network(4, null, 12),
                null, null);
        return new TrainConfig(c.dit(), null, null, false, null, c.datasetConfig(), dir, c.device(), c.mixedPrecision(), false,
                c.network(), c.optimizer(), c.timesteps(), 1, null, 1, c.seed(), c.save(), null, null, vae,
                new SampleConfig(prompts, 1, null, false, textLen -> encoder(), stats, clip, oneFrame), c.fp8());
    }

    /**
     * --one_frame: each prompt's --of and --ci make a one-frame sample (one image at the start image's size); a prompt
     * without --of is refused, and so is --of without --one_frame.
     */
    @Test
    void oneFrameSamplesAreOneImage(@TempDir Path dir) throws Exception {
        BufferedImage img = new BufferedImage(64, 32, BufferedImage.TYPE_INT_RGB);
        img.setRGB(3, 5, 0xff8040);
        ImageIO.write(img, "png", dir.resolve("start.png").toFile());
        Path prompts = dir.resolve("prompts.txt");
        Files.writeString(prompts, "a cat --w 48 --h 32 --s 2 --d 4 --i start.png --ci start.png --of target_index=1,control_index=0\n");
        Path vae = Golden.path("vae_tiny_weights.safetensors");
        WanModel model = model();
        LoraNetwork net = LoraNetwork.create(model, new ModuleSelector(Optional.empty(), List.of(), List.of()), 4, 4,
                LoraAdapter.Dropouts.NONE, 1, new CollectingReporter());
        try (TrainingSampler sampler = TrainingSampler.prepare(config(dir, prompts, vae, null, true), TASK,
                new CollectingReporter())) {
            List<Path> written = sampler.sample(model, net, "000001", new CollectingReporter());
            assertEquals(1, written.size(), written.toString());
            BufferedImage frame = ImageIO.read(written.getFirst().toFile());
            assertEquals(48, frame.getWidth());
            assertEquals(32, frame.getHeight(), "the prompt's 48x32, as upstream's training sampler");
        }
        LoraidException videoRun = assertThrows(LoraidException.class, () -> TrainingSampler.prepare(config(dir, prompts, vae),
                TASK, new CollectingReporter()));
        assertTrue(videoRun.getMessage().contains("has a one-frame option (--of), but the run samples videos"),
                videoRun.getMessage());
        Files.writeString(prompts, "a cat --w 48 --h 32 --i start.png\n");
        LoraidException noOf = assertThrows(LoraidException.class, () -> TrainingSampler.prepare(config(dir, prompts, vae, null,
                true), TASK, new CollectingReporter()));
        assertTrue(noOf.getMessage().contains("give the prompt its --of"), noOf.getMessage());
    }

    @Test
    void eachPromptsStartImageConditionsItsSample(@TempDir Path dir) throws Exception {
        BufferedImage img = new BufferedImage(64, 32, BufferedImage.TYPE_INT_RGB);
        img.setRGB(3, 5, 0xff8040);
        ImageIO.write(img, "png", dir.resolve("start.png").toFile());
        Path prompts = dir.resolve("prompts.txt");
        Files.writeString(prompts, "a cat --w 48 --h 32 --f 5 --s 2 --d 4 --i start.png\n");
        WanModel model = model();
        LoraNetwork net = LoraNetwork.create(model, new ModuleSelector(Optional.empty(), List.of(), List.of()), 4, 4,
                LoraAdapter.Dropouts.NONE, 1, new CollectingReporter());
        try (TrainingSampler sampler = TrainingSampler.prepare(config(dir, prompts, Golden.path("vae_tiny_weights.safetensors")),
                TASK, new CollectingReporter())) {
            List<Path> written = sampler.sample(model, net, "000001", new CollectingReporter());
            // the prompt's 48×32 (the 2:1 image cropped to it, as upstream's training sampler), 5 frames
            assertEquals(5, written.size(), written.toString());
            BufferedImage frame = ImageIO.read(written.getFirst().toFile());
            assertEquals(48, frame.getWidth());
            assertEquals(32, frame.getHeight());
        }
    }

    @Test
    void promptFilesThatCannotBeSampledAreRefusedBeforeTraining(@TempDir Path dir) throws Exception {
        Path noImage = dir.resolve("no-image.txt");
        Files.writeString(noImage, "a cat --w 48 --h 32\n");
        Path vae = Golden.path("vae_tiny_weights.safetensors");
        LoraidException a = assertThrows(LoraidException.class,
            () -> TrainingSampler.prepare(config(dir, noImage, vae), TASK, new CollectingReporter()));
        assertTrue(a.getMessage().contains("tiny-i2v is image-to-video: give the prompt its start image (--i)"), a.getMessage());
        Path withImage = dir.resolve("image.txt");
        Files.writeString(withImage, "a cat --w 48 --h 32 --i start.png\n");
        LoraidException b = assertThrows(LoraidException.class,
            () -> TrainingSampler.prepare(config(dir, withImage, vae), WanPresets.get("tiny"), new CollectingReporter()));
        assertTrue(b.getMessage().contains("has a start image (--i), but tiny is text-to-video"), b.getMessage());
        LoraidException c = assertThrows(LoraidException.class,
            () -> TrainingSampler.prepare(config(dir, withImage, null), TASK, new CollectingReporter()));
        assertTrue(c.getMessage().contains("image-to-video samples need --vae"), c.getMessage());
    }

    /**
     * A Wan 2.1 I2V task (tiny-i2v-clip: the CLIP branch) samples with its start images' CLIP tokens from --clip, and
     * refuses to prepare without it.
     */
    @Test
    void wan21SamplesTakeTheirStartImagesClipTokens(@TempDir Path dir) throws Exception {
        ImageIO.write(new BufferedImage(64, 32, BufferedImage.TYPE_INT_RGB), "png", dir.resolve("start.png").toFile());
        Path prompts = dir.resolve("prompts.txt");
        Files.writeString(prompts, "a cat --w 48 --h 32 --f 5 --s 2 --d 4 --i start.png\n");
        Path vae = Golden.path("vae_tiny_weights.safetensors");
        WanVariant task = WanPresets.get("tiny-i2v-clip");
        LoraidException none = assertThrows(LoraidException.class,
            () -> TrainingSampler.prepare(config(dir, prompts, vae), task, new CollectingReporter()));
        assertTrue(none.getMessage().contains("need the start images' CLIP tokens") && none.getMessage().contains("SampleConfig.clip"),
            none.getMessage());
        Path clip = dir.resolve("clip.safetensors");
        Map<String, Tensor> tower = new java.util.LinkedHashMap<>();
        ClipWeights.random(new ClipVisionConfig(1280, 2, 16, 64, 14, 224), 1).forEach((k, t) -> tower.put("visual." + k, t));
        SafetensorsWriter.write(clip, tower, Map.of());
        WanModel model = WanModel.load(WanPresets.TINY_I2V, WanWeights.random(WanPresets.TINY_I2V, 4));
        LoraNetwork net = LoraNetwork.create(model, new ModuleSelector(Optional.empty(), List.of(), List.of()), 4, 4,
                LoraAdapter.Dropouts.NONE, 1, new CollectingReporter());
        try (TrainingSampler sampler = TrainingSampler.prepare(config(dir, prompts, vae, clip), task, new CollectingReporter())) {
            assertEquals(5, sampler.sample(model, net, "000001", new CollectingReporter()).size());
        }
    }

    /** A Fun-Control task (tiny-i2v-FC) samples with each prompt's control video (--cn, a folder of frames here). */
    @Test
    void funControlSamplesTakeTheirControlVideo(@TempDir Path dir) throws Exception {
        ImageIO.write(new BufferedImage(64, 32, BufferedImage.TYPE_INT_RGB), "png", dir.resolve("start.png").toFile());
        Path control = Files.createDirectories(dir.resolve("control"));
        for (int f = 0; f < 5; f++) {
            BufferedImage img = new BufferedImage(64, 32, BufferedImage.TYPE_INT_RGB);
            img.setRGB(f, f, 0xffffff);
            ImageIO.write(img, "png", control.resolve(f + ".png").toFile());
        }
        Path vae = Golden.path("vae_tiny_weights.safetensors");
        Path clip = dir.resolve("clip.safetensors");
        Map<String, Tensor> tower = new java.util.LinkedHashMap<>();
        ClipWeights.random(new ClipVisionConfig(1280, 2, 16, 64, 14, 224), 1).forEach((k, t) -> tower.put("visual." + k, t));
        SafetensorsWriter.write(clip, tower, Map.of());
        WanVariant task = WanPresets.get("tiny-i2v-FC");
        Path noControl = dir.resolve("no-control.txt");
        Files.writeString(noControl, "a cat --w 48 --h 32 --f 5 --i start.png\n");
        LoraidException none = assertThrows(LoraidException.class,
            () -> TrainingSampler.prepare(config(dir, noControl, vae, clip), task, new CollectingReporter()));
        assertTrue(none.getMessage().contains("is Fun-Control: give the prompt its control video (--cn)"), none.getMessage());
        Path prompts = dir.resolve("prompts.txt");
        Files.writeString(prompts, "a cat --w 48 --h 32 --f 5 --s 2 --d 4 --i start.png --cn control\n");
        WanModel model = WanModel.load(WanPresets.TINY_I2V, WanWeights.random(WanPresets.TINY_I2V, 5));
        LoraNetwork net = LoraNetwork.create(model, new ModuleSelector(Optional.empty(), List.of(), List.of()), 4, 4,
                LoraAdapter.Dropouts.NONE, 1, new CollectingReporter());
        try (TrainingSampler sampler = TrainingSampler.prepare(config(dir, prompts, vae, clip), task, new CollectingReporter())) {
            assertEquals(5, sampler.sample(model, net, "000001", new CollectingReporter()).size());
        }
    }
}
