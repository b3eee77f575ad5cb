package dev.loraid.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.loraid.core.CollectingReporter;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What upstream's training loader found in its own caches (expected.json "training", "cache_files"). */
class MusubiCacheTest {
    @ParameterizedTest
    @ValueSource(strings = {"dataset.toml", "dataset_i2v.toml"})
    void findsWhatUpstreamFound(String toml) throws IOException {
        Path dir = MusubiFixture.dir();
        JsonNode exp = MusubiFixture.expected().get("training").get(toml);
        CollectingReporter rep = new CollectingReporter();
        DatasetGroup g = DatasetGroup.open(dir.resolve(toml), dir, rep);
        assertEquals(List.of(), rep.warnings);
        assertEquals(exp.get("num_train_items").asInt(), g.numTrainItems());
        assertEquals(exp.get("num_batches").asInt(), g.batchesPerEpoch());
        assertEquals(exp.get("datasets").size(), g.datasets().size());
        for (JsonNode ed : exp.get("datasets")) {
            CachedDataset d = g.datasets().get(ed.get("index").asInt());
            String where = toml + " datasets[" + d.spec().index() + "]";
            assertEquals(ed.get("type").asText(), d.spec().kind().label(), where);
            assertEquals(dir.resolve(ed.get("cache_directory").asText()), d.spec().cacheDirectory(), where);
            assertEquals(new Size(ed.get("resolution").get(0).asInt(), ed.get("resolution").get(1).asInt()),
                d.spec().resolution(), where);
            assertEquals(ed.get("batch_size").asInt(), d.spec().batchSize(), where);
            assertEquals(ed.get("num_train_items").asInt(), d.numTrainItems(), where);
            List<BucketKey> keys = new ArrayList<>();
            for (JsonNode eb : ed.get("buckets")) {
                keys.add(bucketKey(eb.get("bucket_key")));
            }
            assertEquals(keys, d.bucketKeys(), where);
            for (int b = 0; b < keys.size(); b++) {
                Set<String> expectedItems = new HashSet<>();
                for (JsonNode ei : ed.get("buckets").get(b).get("items")) {
                    expectedItems.add(ei.get("item_key").asText() + " " + ei.get("latent_cache_file").asText() + " "
                        + ei.get("text_encoder_output_cache_file").asText() + " " + ei.get("original_size").get(0)
                        + "x" + ei.get("original_size").get(1) + " " + ei.get("frame_count"));
                }
                Set<String> actual = new HashSet<>();
                for (CacheItem i : d.bucket(b)) {
                    actual.add(i.itemKey() + " " + i.latentCache().getFileName() + " " + i.textCache().getFileName()
                        + " " + i.originalSize() + " " + (i.frameCount() == null ? "null" : i.frameCount()));
                }
                assertEquals(expectedItems, actual, where + " bucket " + keys.get(b));
            }
        }

        // batches: found by (dataset, bucket key); membership as a set, tensors per sample
        List<Batch> batches = g.batches(0, 0);
        assertEquals(exp.get("num_batches").asInt(), batches.size());
        Set<String> matched = new HashSet<>();
        for (Batch batch : batches) {
            JsonNode eb = null;
            for (JsonNode c : exp.get("datasets").get(batch.datasetIndex()).get("batches")) {
                if (bucketKey(c.get("bucket_key")).equals(batch.bucketKey())) {
                    eb = c;
                }
            }
            assertNotNull(eb, "no expected batch for " + batch);
            assertTrue(matched.add(batch.datasetIndex() + " " + batch.bucketKey()));
            checkBatch(toml, eb, batch);
        }
    }

    private static void checkBatch(String toml, JsonNode eb, Batch batch) {
        String where = toml + " batch " + batch.datasetIndex() + " " + batch.bucketKey();
        List<String> order = new ArrayList<>();
        eb.get("item_keys_in_batch_order").forEach(n -> order.add(n.asText()));
        List<TrainSample> samples = BatchLoader.load(batch);
        Set<String> keys = new HashSet<>();
        for (TrainSample s : samples) {
            keys.add(s.itemKey());
        }
        assertEquals(new HashSet<>(order), keys, where);
        JsonNode tensors = eb.get("tensors");
        Set<String> names = new HashSet<>();
        tensors.fieldNames().forEachRemaining(names::add);
        names.remove("timesteps");
        for (TrainSample s : samples) {
            Map<String, Tensor> present = present(s);
            assertEquals(names, present.keySet(), where + " " + s.itemKey());
            for (String n : names) {
                JsonNode e = tensors.get(n);
                Tensor t = present.get(n);
                if (n.equals("t5")) {
                    int i = order.indexOf(s.itemKey());
                    assertEquals(dtype(e.get("dtypes").get(i).asText()), t.dtype(), where + " t5");
                    assertArrayEquals(longs(e.get("shapes").get(i), 0), t.shape().toArray(), where + " t5");
                } else {
                    assertEquals("stacked", e.get("kind").asText());
                    assertEquals(batch.size(), e.get("shape").get(0).asInt(), where + " " + n + " B");
                    assertEquals(dtype(e.get("dtype").asText()), t.dtype(), where + " " + n);
                    assertArrayEquals(longs(e.get("shape"), 1), t.shape().toArray(), where + " " + n);
                }
            }
        }
    }

    /** Every tensor of every cache file: header dtype, shape, float64 sum and first values (F16 clip included). */
    @ParameterizedTest
    @ValueSource(strings = {"dataset.toml", "dataset_i2v.toml"})
    void tensorValuesMatchTheFiles(String toml) throws IOException {
        Path dir = MusubiFixture.dir();
        DatasetGroup g = DatasetGroup.open(dir.resolve(toml), dir, new CollectingReporter());
        // what the loader returns, by "<cache dir>/<file>" and raw tensor name prefix
        Map<String, Map<String, Tensor>> byFile = new HashMap<>();
        for (CachedDataset d : g.datasets()) {
            for (int b = 0; b < d.bucketKeys().size(); b++) {
                for (CacheItem item : d.bucket(b)) {
                    TrainSample s = BatchLoader.load(item);
                    Map<String, Tensor> p = present(s);
                    String cache = dir.relativize(item.latentCache().getParent()).toString();
                    Map<String, Tensor> latent = new HashMap<>(p);
                    latent.remove("t5");
                    byFile.put(cache + "/" + item.latentCache().getFileName(), latent);
                    byFile.put(cache + "/" + item.textCache().getFileName(), Map.of("t5", s.t5()));
                }
            }
        }
        int checked = 0;
        for (JsonNode f : MusubiFixture.expected().get("cache_files")) {
            Map<String, Tensor> loaded = byFile.get(f.get("file").asText());
            if (loaded == null) {
                continue; // a file of the other config
            }
            assertEquals(f.get("tensors").size(), loaded.size(), f.get("file").asText());
            for (var e : f.get("tensors").properties()) {
                String name = BatchLoader.normalize(e.getKey());
                Tensor t = loaded.get(name);
                String where = f.get("file").asText() + ": " + e.getKey();
                assertNotNull(t, where);
                JsonNode v = e.getValue();
                assertEquals(DType.fromSafetensorsName(v.get("header_dtype").asText()), t.dtype(), where);
                assertArrayEquals(longs(v.get("shape"), 0), t.shape().toArray(), where);
                double[] x = t.toDoubleArray();
                double sum = 0;
                for (double d : x) {
                    sum += d;
                }
                assertEquals(v.get("sum").asDouble(), sum, 1e-9 * Math.max(1, Math.abs(sum)), where + " sum");
                for (int i = 0; i < v.get("first").size(); i++) {
                    assertEquals(v.get("first").get(i).asDouble(), x[i], 0.0, where + "[" + i + "]");
                }
                checked++;
            }
        }
        assertEquals(toml.equals("dataset.toml") ? 7 : 4, checked);
    }

    @ParameterizedTest
    @ValueSource(strings = {"dataset.toml", "dataset_i2v.toml"})
    void t2vSamplesHaveNoConditioning(String toml) {
        Path dir = MusubiFixture.dir();
        DatasetGroup g = DatasetGroup.open(dir.resolve(toml), dir, new CollectingReporter());
        for (Batch b : g.batches(1, 0)) {
            for (TrainSample s : BatchLoader.load(b)) {
                assertNull(s.latentsControl());
                if (toml.equals("dataset.toml")) {
                    assertNull(s.latentsImage());
                    assertNull(s.clip());
                }
            }
        }
    }

    static Map<String, Tensor> present(TrainSample s) {
        Map<String, Tensor> m = new HashMap<>();
        m.put("latents", s.latents());
        m.put("t5", s.t5());
        if (s.latentsImage() != null) {
            m.put("latents_image", s.latentsImage());
        }
        if (s.clip() != null) {
            m.put("clip", s.clip());
        }
        if (s.latentsControl() != null) {
            m.put("latents_control", s.latentsControl());
        }
        return m;
    }

    static BucketKey bucketKey(JsonNode k) {
        return new BucketKey(k.get(0).asInt(), k.get(1).asInt(), k.get(2).asInt());
    }

    private static DType dtype(String torchName) {
        return switch (torchName) {
            case "bfloat16" -> DType.BF16;
            case "float16" -> DType.F16;
            case "float32" -> DType.F32;
            default -> throw new IllegalArgumentException(torchName);
        };
    }

    private static long[] longs(JsonNode a, int from) {
        long[] out = new long[a.size() - from];
        for (int i = from; i < a.size(); i++) {
            out[i - from] = a.get(i).asLong();
        }
        return out;
    }
}
