package dev.loraid.core.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.loraid.core.CollectingReporter;
import dev.loraid.core.data.Batch;
import dev.loraid.core.data.BatchLoader;
import dev.loraid.core.data.BucketKey;
import dev.loraid.core.data.CacheItem;
import dev.loraid.core.data.CachedDataset;
import dev.loraid.core.data.DatasetConfig;
import dev.loraid.core.data.DatasetGroup;
import dev.loraid.core.data.TrainSample;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Caching the fixture's dataset.toml from its real PNGs and MP4 (MPEG-4 Part 2) with fake encoders gives the files
 * upstream wrote (expected.json "cache_files": names, tensor names, shapes, dtypes, metadata), and the trainer's
 * reader finds in them what upstream's loader found ("training").
 */
class MusubiCacheWriteTest {
    @TempDir
    Path work;

    @Test
    void writesWhatUpstreamWrote() throws IOException {
        CacheFixture.copySources(work);
        CollectingReporter rep = new CollectingReporter();
        DatasetConfig config = DatasetConfig.read(work.resolve("dataset.toml"), work, rep);
        FakeEncoders.Vae vae = new FakeEncoders.Vae();
        FakeEncoders.T5 t5 = new FakeEncoders.T5();
        CacheSummary latents = new LatentCacher(vae, work, CacheOptions.DEFAULTS, rep).run(config);
        CacheSummary text = new TextCacher(t5, work, CacheOptions.DEFAULTS, rep).run(config);
        assertEquals(List.of(), rep.warnings);
        assertEquals(List.of(), latents.skipped());
        assertEquals(4, latents.written().size(), latents.toString());
        assertEquals(3, text.written().size(), text.toString());
        assertEquals(List.of("red square", "a small blue circle", "a ball rolls right"), t5.prompts);

        // the images' batch of 2 (dataset batch_size) shares bucket 48x32; the video's crops are 1 and 5 frames
        assertEquals(List.of(2, 1, 1), vae.batchSizes);
        JsonNode exp = CacheFixture.expected();
        Set<String> expectedFiles = new TreeSet<>();
        for (JsonNode f : exp.get("cache_files")) {
            String name = f.get("file").asText();
            if (name.startsWith("cache_i2v/")) {
                continue; // written with --clip upstream: see i2vWritesTheMaskTheFirstFrameLatentAndItsClipTokens
            }
            expectedFiles.add(name);
            assertLikeUpstream(f, work.resolve(name));
        }
        Set<String> ourFiles = new TreeSet<>();
        for (String d : new String[] {"cache_images", "cache_videos"}) {
            try (Stream<Path> s = Files.list(work.resolve(d))) {
                s.forEach(p -> ourFiles.add(d + "/" + p.getFileName()));
            }
        }
        assertEquals(expectedFiles, ourFiles);

        // the trainer's side reads our caches as upstream's loader read upstream's
        DatasetGroup g = DatasetGroup.open(work.resolve("dataset.toml"), work, rep);
        assertEquals(List.of(), rep.warnings);
        JsonNode training = exp.get("training").get("dataset.toml");
        assertEquals(training.get("num_train_items").asInt(), g.numTrainItems());
        assertEquals(training.get("num_batches").asInt(), g.batchesPerEpoch());
        for (JsonNode ed : training.get("datasets")) {
            CachedDataset d = g.datasets().get(ed.get("index").asInt());
            List<BucketKey> keys = new ArrayList<>();
            for (JsonNode eb : ed.get("buckets")) {
                JsonNode k = eb.get("bucket_key");
                keys.add(new BucketKey(k.get(0).asInt(), k.get(1).asInt(), k.get(2).asInt()));
            }
            assertEquals(keys, d.bucketKeys());
            for (int b = 0; b < keys.size(); b++) {
                Set<String> expected = new HashSet<>();
                for (JsonNode ei : ed.get("buckets").get(b).get("items")) {
                    expected.add(ei.get("item_key").asText() + " " + ei.get("latent_cache_file").asText() + " "
                        + ei.get("text_encoder_output_cache_file").asText() + " " + ei.get("frame_count"));
                }
                Set<String> actual = new HashSet<>();
                for (CacheItem i : d.bucket(b)) {
                    actual.add(i.itemKey() + " " + i.latentCache().getFileName() + " " + i.textCache().getFileName()
                        + " " + (i.frameCount() == null ? "null" : i.frameCount()));
                }
                assertEquals(expected, actual, "datasets[" + ed.get("index") + "] bucket " + keys.get(b));
            }
        }
    }

    /**
     * --clip on the fixture's I2V dataset (upstream's run: --clip alone implies the I2V conditioning): upstream's file
     * name, metadata, tensor names in header order, dtypes and shapes (clip_bfloat16 holds F16); the mask is 1 on latent
     * frame 0 only; the conditioning channels are the encoding of the first frame followed by grey frames, and the CLIP
     * saw that first frame, both checked through stand-ins that average pixel blocks; the trainer's reader finds
     * latents_image and clip beside latents, as upstream's loader did. --i2v without a CLIP writes no clip tensor.
     */
    @Test
    void i2vWritesTheMaskTheFirstFrameLatentAndItsClipTokens() throws IOException {
        CacheFixture.copySources(work);
        CollectingReporter rep = new CollectingReporter();
        DatasetConfig config = DatasetConfig.read(work.resolve("dataset_i2v.toml"), work, rep);
        FakeEncoders.BlockMeanVae vae = new FakeEncoders.BlockMeanVae();
        FakeEncoders.BlockMeanClip clip = new FakeEncoders.BlockMeanClip();
        CacheSummary s = new LatentCacher(vae, clip, work, CacheOptions.DEFAULTS, rep).run(config);
        assertEquals(1, s.written().size(), s.toString());
        Path file = work.resolve("cache_i2v/clip2_00000-005_0048x0032_wan.safetensors");
        assertEquals(List.of(file), s.written());
        for (JsonNode f : CacheFixture.expected().get("cache_files")) {
            if (f.get("file").asText().equals("cache_i2v/clip2_00000-005_0048x0032_wan.safetensors")) {
                assertLikeUpstream(f, file);
            }
        }
        try (SafetensorsFile sf = SafetensorsFile.open(file)) {
            Tensor tokens = sf.tensor("clip_bfloat16");
            Tensor cond = sf.tensor("latents_image_2x4x6_bfloat16");
            for (int c = 0; c < 3; c++) {
                for (int y0 = 0; y0 < 4; y0++) {
                    for (int x0 = 0; x0 < 6; x0++) {
                        int i = (c * 4 + y0) * 6 + x0;
                        // both averaged the 8x8 blocks of the first frame: the VAE's frame 0 (bf16) and the CLIP's tokens (f16)
                        assertEquals(cond.getDouble(4 + c, 0, y0, x0), tokens.getDouble(i / 16, i % 16), 1e-2, "block " + i);
                    }
                }
            }
        }
        new TextCacher(new FakeEncoders.T5(), work, CacheOptions.DEFAULTS, rep).run(config);
        TrainSample withClip = BatchLoader.load(DatasetGroup.open(work.resolve("dataset_i2v.toml"), work, rep).batches(0, 0).getFirst())
            .getFirst();
        assertEquals(List.of(5L, 16L), java.util.Arrays.stream(withClip.clip().shape().toArray()).boxed().toList());

        s = new LatentCacher(vae, work, new CacheOptions(false, false, null, false, true), rep).run(config);
        assertEquals(List.of(file), s.written());
        Tensor pixels;
        try (SafetensorsFile sf = SafetensorsFile.open(file)) {
            assertEquals(List.of("latents_2x4x6_bfloat16", "latents_image_2x4x6_bfloat16"), sf.names());
            assertEquals(DType.BF16, sf.info("latents_image_2x4x6_bfloat16").dtype());
            Tensor y = sf.tensor("latents_image_2x4x6_bfloat16");
            assertEquals(List.of(8L, 2L, 4L, 6L), java.util.Arrays.stream(y.shape().toArray()).boxed().toList());
            Tensor latents = sf.tensor("latents_2x4x6_bfloat16");
            for (int c = 0; c < 8; c++) {
                for (int y0 = 0; y0 < 4; y0++) {
                    for (int x0 = 0; x0 < 6; x0++) {
                        if (c < 4) {
                            assertEquals(1.0, y.getDouble(c, 0, y0, x0), "mask on frame 0");
                            assertEquals(0.0, y.getDouble(c, 1, y0, x0), "mask after frame 0");
                        } else {
                            // frame 0 of the conditioning clip is the clip's first frame: the same latent as the clip's
                            assertEquals(latents.getDouble(c - 4, 0, y0, x0), y.getDouble(c, 0, y0, x0), 0.0);
                            assertEquals(0.0, y.getDouble(c, 1, y0, x0), "grey frames encode to 0 here");
                        }
                    }
                }
            }
            assertTrue(Math.abs(latents.getDouble(0, 1, 0, 0)) > 0, "the clip's later frames are not grey");
        }
        new TextCacher(new FakeEncoders.T5(), work, CacheOptions.DEFAULTS, rep).run(config);
        List<Batch> batches = DatasetGroup.open(work.resolve("dataset_i2v.toml"), work, rep).batches(0, 0);
        TrainSample sample = BatchLoader.load(batches.getFirst()).getFirst();
        assertEquals(List.of(8L, 2L, 4L, 6L), java.util.Arrays.stream(sample.latentsImage().shape().toArray()).boxed().toList());
    }

    /** The file {@code ours} has upstream's metadata, tensor names in header order, dtypes and shapes ({@code f}). */
    private static void assertLikeUpstream(JsonNode f, Path ours) throws IOException {
        String name = f.get("file").asText();
        assertTrue(Files.isRegularFile(ours), "missing " + name);
        try (SafetensorsFile sf = SafetensorsFile.open(ours)) {
            Map<String, String> expMeta = new HashMap<>();
            f.get("metadata").fields().forEachRemaining(e -> expMeta.put(e.getKey(), e.getValue().asText()));
            assertEquals(expMeta, sf.metadata(), name);
            List<String> expNames = new ArrayList<>();
            f.get("header_key_order").forEach(n -> expNames.add(n.asText()));
            assertEquals(expNames, sf.names(), name);
            for (String n : expNames) {
                JsonNode et = f.get("tensors").get(n);
                TensorInfo info = sf.info(n);
                assertEquals(et.get("header_dtype").asText(), info.dtype().safetensorsName(), name + " " + n);
                List<Long> shape = new ArrayList<>();
                et.get("shape").forEach(d -> shape.add(d.asLong()));
                List<Long> ourShape = new ArrayList<>();
                for (long d : info.shape().toArray()) {
                    ourShape.add(d);
                }
                assertEquals(shape, ourShape, name + " " + n);
            }
        }
    }
}
