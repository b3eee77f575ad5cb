package dev.loraid.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.CollectingReporter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The epoch order is a pure function of (seed, epoch) with upstream's bucket/batch rules (spec §4.7). */
class EpochOrderTest {
    @TempDir
    Path dir;
    DatasetGroup group;

    /** Discovery opens no file, so empty files with cache names are enough here. */
    @BeforeEach
    void caches() throws IOException {
        Path ci = Files.createDirectories(dir.resolve("ci"));
        String[] sizes = {"0050x0030", "0032x0048", "0064x0040", "0048x0032", "0040x0064"}; // two buckets at 48×32
        for (int i = 0; i < 11; i++) {
            Files.createFile(ci.resolve("img" + i + "_" + sizes[i % sizes.length] + "_wan.safetensors"));
            Files.createFile(ci.resolve("img" + i + "_wan_te.safetensors"));
        }
        Path cv = Files.createDirectories(dir.resolve("cv"));
        for (int i = 0; i < 5; i++) {
            for (int f : new int[] {1, 5, 9}) {
                Files.createFile(cv.resolve("clip_" + i + "_00000-" + String.format("%03d", f) + "_0048x0032_wan.safetensors"));
            }
            Files.createFile(cv.resolve("clip_" + i + "_wan_te.safetensors"));
        }
        Path toml = Files.writeString(dir.resolve("ds.toml"), """
            [general]
            resolution = [48, 32]
            enable_bucket = true
            [[datasets]]
            image_directory = "images"
            cache_directory = "ci"
            batch_size = 4
            num_repeats = 3
            [[datasets]]
            video_directory = "videos"
            cache_directory = "cv"
            batch_size = 2
            num_repeats = 2
            """);
        group = DatasetGroup.open(toml, dir, new CollectingReporter());
    }

    @Test
    void bucketsAndCounts() {
        CachedDataset img = group.datasets().get(0);
        assertEquals(List.of(new BucketKey(32, 48, 9), new BucketKey(48, 32, 9)), img.bucketKeys());
        assertEquals(33, img.numTrainItems());
        assertEquals(Set.of("img1", "img4", "img6", "img9"), keys(img.bucket(0)));
        assertEquals(12, img.bucket(0).size());
        assertEquals(21, img.bucket(1).size());
        CachedDataset vid = group.datasets().get(1);
        assertEquals(List.of(new BucketKey(48, 32, 1), new BucketKey(48, 32, 5), new BucketKey(48, 32, 9)), vid.bucketKeys());
        assertEquals(Set.of("clip_0", "clip_1", "clip_2", "clip_3", "clip_4"), keys(vid.bucket(2)));
        assertEquals(30, vid.numTrainItems());
        assertEquals(63, group.numTrainItems());
        assertEquals(3 + 6 + 3 * 5, group.batchesPerEpoch()); // ceil(12/4) + ceil(21/4) + 3 × ceil(10/2)
    }

    @Test
    void deterministicPerSeedAndEpoch() {
        assertEquals(group.batches(42, 3), group.batches(42, 3));
        assertNotEquals(order(group.batches(42, 3)), order(group.batches(42, 4)));
        assertNotEquals(order(group.batches(42, 3)), order(group.batches(43, 3)));
        assertNotEquals(order(group.batches(0, 0)), order(group.batches(0, 1)));
        // and within buckets, not only across them
        assertNotEquals(order(group.datasets().get(0).batches(42, 3)), order(group.datasets().get(0).batches(42, 4)));
    }

    @Test
    void everyEntryOncePerRepeatAndBatchesNeverMixBuckets() {
        for (int epoch = 0; epoch < 4; epoch++) {
            List<Batch> batches = group.batches(7, epoch);
            assertEquals(group.batchesPerEpoch(), batches.size());
            Map<String, Integer> seen = new HashMap<>();
            Map<String, List<Integer>> sizes = new HashMap<>();
            for (Batch b : batches) {
                DatasetSpec spec = group.datasets().get(b.datasetIndex()).spec();
                assertTrue(b.size() >= 1 && b.size() <= spec.batchSize(), b.toString());
                for (CacheItem i : b.items()) {
                    assertEquals(b.bucketKey(), i.bucketKey(), "batch mixes buckets: " + b);
                    seen.merge(i.latentCache().toString(), 1, Integer::sum);
                }
                sizes.computeIfAbsent(b.datasetIndex() + " " + b.bucketKey(), k -> new ArrayList<>()).add(b.size());
            }
            assertEquals(11 + 15, seen.size());
            for (var e : seen.entrySet()) {
                int repeats = e.getKey().contains("img") ? 3 : 2;
                assertEquals(repeats, e.getValue(), e.getKey());
            }
            // per bucket: all full but at most one short batch
            for (var e : sizes.entrySet()) {
                int bs = e.getKey().startsWith("0 ") ? 4 : 2;
                assertTrue(e.getValue().stream().filter(s -> s < bs).count() <= 1, e.toString());
            }
            assertEquals(List.of(4, 4, 4), sortedSizes(sizes.get("0 (32, 48, 9)")));
            assertEquals(List.of(1, 4, 4, 4, 4, 4), sortedSizes(sizes.get("0 (48, 32, 9)")));
        }
    }

    @Test
    void shardsByRankCoverTheEpochOnce() {
        List<Batch> all = group.batches(5, 2);
        int world = 3;
        Set<Batch> union = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        int taken = 0;
        for (int rank = 0; rank < world; rank++) {
            List<Batch> again = group.batches(5, 2); // each rank computes the list itself
            for (int i = rank; i < again.size(); i += world) {
                assertEquals(all.get(i), again.get(i));
                union.add(all.get(i));
                taken++;
            }
        }
        assertEquals(all.size(), taken);
        assertEquals(all.size(), union.size());
    }

    @Test
    void permutationIsAPermutationAndSpreads() {
        for (int n : new int[] {0, 1, 2, 17, 1000}) {
            int[] p = EpochShuffle.permutation(n, EpochShuffle.key(1, 2, 3));
            int[] s = p.clone();
            Arrays.sort(s);
            for (int i = 0; i < n; i++) {
                assertEquals(i, s[i]);
            }
        }
        // every position takes each of 4 values about equally often over many keys
        int[][] counts = new int[4][4];
        for (int k = 0; k < 40000; k++) {
            int[] p = EpochShuffle.permutation(4, EpochShuffle.key(k));
            for (int i = 0; i < 4; i++) {
                counts[i][p[i]]++;
            }
        }
        for (int[] row : counts) {
            for (int c : row) {
                assertTrue(Math.abs(c - 10000) < 500, Arrays.deepToString(counts));
            }
        }
        assertNotEquals(EpochShuffle.key(1, 2), EpochShuffle.key(2, 1));
        assertNotEquals(EpochShuffle.key(1), EpochShuffle.key(1, 0));
    }

    private static List<Integer> sortedSizes(List<Integer> s) {
        return s.stream().sorted().toList();
    }

    private static Set<String> keys(List<CacheItem> items) {
        Set<String> s = new HashSet<>();
        items.forEach(i -> s.add(i.itemKey()));
        return s;
    }

    private static List<String> order(List<Batch> batches) {
        List<String> out = new ArrayList<>();
        for (Batch b : batches) {
            for (CacheItem i : b.items()) {
                out.add(i.latentCache().getFileName().toString());
            }
            out.add("|");
        }
        return out;
    }
}
