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
 * Caching with {@code control_directory} (training.md §4.2, §4.5; musubi docs/wan_1f.md). Video datasets: each crop's file also holds
 * {@code latents_control_…}, the encoding of the same window of the control video, padded by repeating its last frame
 * to the video's length; checked through the block-mean VAE stand-in on frames of one flat colour each, so every
 * latent value names the frames it averaged. A video without a control video is refused before anything is encoded.
 * Image datasets: control images are matched as upstream's ImageDirectoryDatasource matches them; without --one_frame the
 * first one becomes latents_control; with --one_frame (and fp_1f_* keys) each file is upstream's one-frame cache.
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

    /** A flat 48×32 image, red {@code red}, green 100. */
    private Path image(String name, int red) throws IOException {
        Path p = work.resolve(name);
        Files.createDirectories(p.getParent());
        BufferedImage img = new BufferedImage(48, 32, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 48; x++) {
                img.setRGB(x, y, red << 16 | 100 << 8);
            }
        }
        ImageIO.write(img, "png", p.toFile());
        return p;
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

    }

    /** Upstream's matching: longer image names first, the exact stem first, then _<n> in the order of n; too few refused. */
    @Test
    void controlImagesAreMatchedAsUpstreamMatchesThem() throws IOException {
        for (String n : new String[] {"images/a.png", "images/ab.png", "ctl/a.png", "ctl/a_2.png", "ctl/a_0.png",
            "ctl/ab.jpg", "ctl/ab_1.png"}) {
            image(n, 0);
        }
        List<SourceItem> items = CacheSources.withControlImages(CacheSources.directory(work.resolve("images"), false, ".txt"),
            work.resolve("ctl"), 2);
        assertEquals(List.of("a.png", "a_0.png"), items.get(0).controls().stream().map(p -> p.getFileName().toString()).toList());
        assertEquals(List.of("ab.jpg", "ab_1.png"), items.get(1).controls().stream().map(p -> p.getFileName().toString()).toList());
        LoraidException few = assertThrows(LoraidException.class, () -> CacheSources.withControlImages(
            CacheSources.directory(work.resolve("images"), false, ".txt"), work.resolve("ctl"), 3));
        assertTrue(few.getMessage().contains("not enough control images for 1 image(s): ab.png (2 of 3)"), few.getMessage());
        image("ctl/a_x.png", 0);
        LoraidException bad = assertThrows(LoraidException.class, () -> CacheSources.withControlImages(
            CacheSources.directory(work.resolve("images"), false, ".txt"), work.resolve("ctl"), 1));
        assertTrue(bad.getMessage().contains("a_x.png does not end in _<number>"), bad.getMessage());
    }

    /**
     * Image JSONL: control_path is control_path_0, the control_path_N keys follow in the order of N (upstream's
     * normalisation); each image needs as many as fp_1f_clean_indices names, else the line's image is named.
     */
    @Test
    void jsonlControlPathsAreNormalisedAndCounted() throws IOException {
        image("a.png", 0);
        image("b.png", 0);
        Files.writeString(work.resolve("images.jsonl"), String.join("\n",
            "{\"image_path\": \"a.png\", \"caption\": \"a\", \"control_path_1\": \"a2.png\", \"control_path\": \"a1.png\"}",
            "{\"image_path\": \"b.png\", \"caption\": \"b\", \"control_path_0\": \"b1.png\"}", ""));
        CollectingReporter rep = new CollectingReporter();
        DatasetConfig two = config("""
            [[datasets]]
            image_jsonl_file = "images.jsonl"
            cache_directory = "cache"
            fp_1f_clean_indices = [0, 2]
            fp_1f_target_index = 1
            """, rep);
        LoraidException few = assertThrows(LoraidException.class, () -> CacheSources.list(two.datasets().getFirst(), work));
        assertTrue(few.getMessage().contains("b.png has 1 control_path value(s), 2 needed"), few.getMessage());
        DatasetConfig one = config("""
            [[datasets]]
            image_jsonl_file = "images.jsonl"
            cache_directory = "cache"
            """, rep);
        List<SourceItem> items = CacheSources.list(one.datasets().getFirst(), work);
        assertEquals(List.of(work.resolve("a1.png")), items.get(0).controls(), "control_path first, one kept");
        assertEquals(List.of(work.resolve("b1.png")), items.get(1).controls());
    }

    /** Without --one_frame an image's (first) control image is encoded at the image's bucket as latents_control. */
    @Test
    void anImagesControlImageBecomesItsControlLatent() throws IOException {
        image("images/cat.png", 200);
        Files.writeString(work.resolve("images/cat.txt"), "a cat");
        image("ctl/cat.png", 40);
        CollectingReporter rep = new CollectingReporter();
        DatasetConfig config = config("""
            [[datasets]]
            image_directory = "images"
            control_directory = "ctl"
            cache_directory = "cache"
            """, rep);
        CacheSummary s = new LatentCacher(new FakeEncoders.BlockMeanVae(), work, CacheOptions.DEFAULTS, rep).run(config);
        assertEquals(1, s.written().size(), s.toString());
        try (SafetensorsFile sf = SafetensorsFile.open(s.written().getFirst())) {
            assertEquals(red(200), sf.tensor("latents_1x4x6_bfloat16").getDouble(0, 0, 1, 1), 1e-2);
            assertEquals(red(40), sf.tensor("latents_control_1x4x6_bfloat16").getDouble(0, 0, 1, 1), 1e-2);
        }
    }

    /**
     * --one_frame (upstream's encode_and_save_batch_one_frame): control and target latents at the sorted positions of
     * fp_1f_clean_indices and fp_1f_target_index, the conditioning with a mask of 1 and the control latent on control
     * frames, a mask of 0 and a grey frame's latent on the target's, the control images' CLIP tokens [n, 257-like, D] and
     * f_indices; the trainer's reader takes the file; without --clip, or on a video dataset, it is refused.
     */
    @Test
    void oneFrameCachesPlaceControlsAndTargetAtTheirPositions() throws IOException {
        image("images/cat.png", 200);
        Files.writeString(work.resolve("images/cat.txt"), "a cat");
        image("ctl/cat_0.png", 40);
        image("ctl/cat_1.png", 120);
        CollectingReporter rep = new CollectingReporter();
        DatasetConfig config = config("""
            [[datasets]]
            image_directory = "images"
            control_directory = "ctl"
            cache_directory = "cache"
            fp_1f_clean_indices = [0, 2]
            fp_1f_target_index = 1
            """, rep);
        CacheOptions oneFrame = new CacheOptions(false, false, null, false, false, true);
        LoraidException noClip = assertThrows(LoraidException.class,
            () -> new LatentCacher(new FakeEncoders.BlockMeanVae(), work, oneFrame, rep).run(config));
        assertTrue(noClip.getMessage().contains("CacheOptions.oneFrame needs a CLIP encoder (LatentCacher.clip)"),
            noClip.getMessage());
        CacheSummary s = new LatentCacher(new FakeEncoders.BlockMeanVae(), new FakeEncoders.BlockMeanClip(), work, oneFrame, rep)
            .run(config);
        assertEquals(1, s.written().size(), s.toString());
        try (SafetensorsFile sf = SafetensorsFile.open(s.written().getFirst())) {
            Tensor l = sf.tensor("latents_3x4x6_bfloat16");
            Tensor y = sf.tensor("latents_image_3x4x6_bfloat16");
            Tensor clip = sf.tensor("clip_bfloat16");
            assertEquals(dev.loraid.tensor.DType.F16, clip.dtype());
            assertEquals(List.of(2L, 5L, 16L), List.of(clip.size(0), clip.size(1), clip.size(2)));
            assertEquals(List.of(0L, 1L, 2L), java.util.Arrays.stream(sf.tensor("f_indices_int32").toDoubleArray())
                .mapToLong(d -> (long) d).boxed().toList());
            double[] reds = {red(40), red(200), red(120)};
            for (int j = 0; j < 3; j++) {
                assertEquals(reds[j], l.getDouble(0, j, 2, 3), 1e-2, "latent frame " + j);
                assertEquals(j == 1 ? 0.0 : 1.0, y.getDouble(0, j, 2, 3), "mask of frame " + j);
                assertEquals(j == 1 ? 0.0 : reds[j], y.getDouble(4, j, 2, 3), 1e-2, "conditioning of frame " + j);
            }
            assertEquals(red(40), clip.getDouble(0, 0, 0), 1e-2, "CLIP saw control image 0 first");
            assertEquals(red(120), clip.getDouble(1, 0, 0), 1e-2);
        }
        new TextCacher(new FakeEncoders.T5(), work, CacheOptions.DEFAULTS, rep).run(config);
        TrainSample sample = BatchLoader.load(DatasetGroup.open(work.resolve("dataset.toml"), work, rep).batches(0, 0)
            .getFirst()).getFirst();
        assertEquals(List.of(10L, 16L), List.of(sample.clip().size(0), sample.clip().size(1)));

        frames("videos/walk", 5, 0);
        DatasetConfig video = config("""
            [[datasets]]
            video_directory = "videos"
            cache_directory = "cache_v"
            target_frames = [5]
            """, rep);
        LoraidException onVideo = assertThrows(LoraidException.class, () -> new LatentCacher(new FakeEncoders.BlockMeanVae(),
            new FakeEncoders.BlockMeanClip(), work, oneFrame, rep).run(video));
        assertTrue(onVideo.getMessage().contains("a video dataset"), onVideo.getMessage());
    }
}
