package dev.loraid.core.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.CollectingReporter;
import dev.loraid.core.LoraidException;
import dev.loraid.core.data.BatchLoader;
import dev.loraid.core.data.DatasetConfig;
import dev.loraid.core.data.DatasetGroup;
import dev.loraid.core.data.TrainSample;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Caching a video dataset with {@code control_directory} (training.md §4.2, §4.5): each crop's file also holds
 * {@code latents_control_…}, the encoding of the same window of the control video, padded by repeating its last frame
 * to the video's length; checked through the block-mean VAE stand-in on frames of one flat colour each, so every
 * latent value names the frames it averaged. A video without a control video, or control videos on an image dataset,
 * are refused before anything is encoded.
 */
class ControlCacheTest {
    @TempDir
    Path work;

    /** A folder of {@code n} flat 48×32 frames, frame f with red {@code red0 + 20·f}. */
    private void frames(String folder, int n, int red0) throws IOException {
        Path dir = Files.createDirectories(work.resolve(folder));
        for (int f = 0; f < n; f++) {
            BufferedImage img = new BufferedImage(48, 32, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 48; x++) {
                    img.setRGB(x, y, ((red0 + 20 * f) << 16) | (100 << 8));
                }
            }
            ImageIO.write(img, "png", dir.resolve(String.format("%03d.png", f)).toFile());
        }
    }

    private DatasetConfig config(String dataset, CollectingReporter rep) throws IOException {
        Files.writeString(work.resolve("dataset.toml"), """
            [general]
            resolution = [48, 32]
            caption_extension = ".txt"
            batch_size = 1
            """ + dataset);
        return DatasetConfig.read(work.resolve("dataset.toml"), work, rep);
    }

    private static double red(int value) {
        return value / 127.5 - 1;
    }

    @Test
    void eachCropHoldsTheSameWindowOfTheControlVideoPaddedWithItsLastFrame() throws IOException {
        frames("videos/walk", 9, 0);
        Files.writeString(work.resolve("videos/walk.txt"), "a walk");
        frames("controls/walk", 6, 10); // three frames short of the video: frame 5 (red 110) repeats
        CollectingReporter rep = new CollectingReporter();
        DatasetConfig config = config("""
            [[datasets]]
            video_directory = "videos"
            control_directory = "controls"
            cache_directory = "cache"
            target_frames = [5, 9]
            frame_extraction = "head"
            """, rep);
        CacheSummary s = new LatentCacher(new FakeEncoders.BlockMeanVae(), work, CacheOptions.DEFAULTS, rep).run(config);
        assertEquals(List.of(), s.skipped(), s.toString());
        assertEquals(2, s.written().size(), s.toString());
        try (SafetensorsFile sf = SafetensorsFile.open(work.resolve("cache/walk_00000-009_0048x0032_wan.safetensors"))) {
            assertEquals(List.of("latents_3x4x6_bfloat16", "latents_control_3x4x6_bfloat16"), sf.names());
            Tensor video = sf.tensor("latents_3x4x6_bfloat16");
            Tensor control = sf.tensor("latents_control_3x4x6_bfloat16");
            assertEquals(red(0), video.getDouble(0, 0, 1, 2), 1e-2, "the video's frame 0");
            assertEquals(red(10), control.getDouble(0, 0, 1, 2), 1e-2, "control frame 0");
            assertEquals(red((30 + 50 + 70 + 90) / 4), control.getDouble(0, 1, 3, 5), 1e-2, "control frames 1-4");
            assertEquals(red(110), control.getDouble(0, 2, 0, 0), 1e-2, "frame 5 and its three repeats");
            assertEquals(red(100), control.getDouble(1, 2, 0, 0), 1e-2, "green");
        }
        try (SafetensorsFile sf = SafetensorsFile.open(work.resolve("cache/walk_00000-005_0048x0032_wan.safetensors"))) {
            Tensor control = sf.tensor("latents_control_2x4x6_bfloat16");
            assertEquals(red((30 + 50 + 70 + 90) / 4), control.getDouble(0, 1, 2, 2), 1e-2, "the 5-frame crop's window");
        }
        new TextCacher(new FakeEncoders.T5(), work, CacheOptions.DEFAULTS, rep).run(config);
        TrainSample sample = BatchLoader.load(DatasetGroup.open(work.resolve("dataset.toml"), work, rep).batches(0, 0)
            .getFirst()).getFirst();
        assertEquals(sample.latents().shape(), sample.latentsControl().shape(), "the trainer reads latents_control");
    }

    @Test
    void aVideoWithoutControlOrAnImageDatasetWithControlsIsRefused() throws IOException {
        frames("videos/walk", 5, 0);
        frames("videos/run", 5, 0);
        frames("controls/walk", 5, 0);
        CollectingReporter rep = new CollectingReporter();
        DatasetConfig videos = config("""
            [[datasets]]
            video_directory = "videos"
            control_directory = "controls"
            cache_directory = "cache"
            target_frames = [5]
            """, rep);
        LoraidException missing = assertThrows(LoraidException.class,
            () -> new LatentCacher(new FakeEncoders.BlockMeanVae(), work, CacheOptions.DEFAULTS, rep).run(videos));
        assertTrue(missing.getMessage().contains("no control video for 1 video(s): run"), missing.getMessage());
        assertTrue(Files.notExists(work.resolve("cache/walk_00000-005_0048x0032_wan.safetensors")), "nothing encoded");

        DatasetConfig images = config("""
            [[datasets]]
            image_directory = "videos/walk"
            control_directory = "controls"
            cache_directory = "cache_images"
            """, rep);
        LoraidException image = assertThrows(LoraidException.class,
            () -> new LatentCacher(new FakeEncoders.BlockMeanVae(), work, CacheOptions.DEFAULTS, rep).run(images));
        assertTrue(image.getMessage().contains("control_directory for an image dataset"), image.getMessage());
    }
}
