package dev.loraid.core.data;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One dataset's cached items grouped into buckets (spec training.md §4.7 prepare_for_training): every
 * {@code *_wan.safetensors} of the cache directory, in file-name order, that has its text cache, repeated
 * num_repeats times in its bucket. Buckets are in sorted key order; a bucket's index is its position there.
 */
public final class CachedDataset {
    static final String LATENT_SUFFIX = "_wan.safetensors";
    static final String TEXT_SUFFIX = "_wan_te.safetensors";
    private static final Pattern SIZE = Pattern.compile("(\\d+)x(\\d+)");
    private static final Pattern FRAMES = Pattern.compile("(\\d+)-(\\d+)");

    private final DatasetSpec spec;
    private final List<BucketKey> bucketKeys;
    private final List<List<CacheItem>> buckets;
    private final String problem;

    private CachedDataset(DatasetSpec spec, List<BucketKey> bucketKeys, List<List<CacheItem>> buckets, String problem) {
        this.spec = spec;
        this.bucketKeys = bucketKeys;
        this.buckets = buckets;
        this.problem = problem;
    }

    /**
     * Lists and buckets the caches of {@code spec}. A latent cache without its text cache, or whose name does not
     * parse, is skipped with a warning. A missing or empty directory gives an empty dataset (see {@link #problem}).
     */
    public static CachedDataset discover(DatasetSpec spec, Reporter reporter) {
        Path dir = spec.cacheDirectory();
        String where = "datasets[" + spec.index() + "] (" + spec.kind().label() + "): cache directory " + dir;
        if (!Files.isDirectory(dir)) {
            return empty(spec, Files.exists(dir) ? "is not a directory" : "does not exist");
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(f -> f.getFileName().toString().endsWith(LATENT_SUFFIX) && Files.isRegularFile(f))
                .sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
                .toList();
        } catch (IOException e) {
            throw new LoraidException(where + ": cannot list (" + e.getMessage() + ")", e);
        }
        if (files.isEmpty()) {
            return empty(spec, "has no *" + LATENT_SUFFIX + " latent caches");
        }
        BucketSelector selector = spec.bucketSelector();
        Map<BucketKey, List<CacheItem>> byKey = new TreeMap<>();
        int badNames = 0;
        int noText = 0;
        for (Path f : files) {
            CacheItem item = parse(f, spec, selector);
            if (item == null) {
                badNames++;
                reporter.warn(where + ": skipping " + f.getFileName() + ": not a Wan latent cache name ("
                    + (spec.isVideo() ? "<stem>_<start>-<frames>_<W>x<H>_wan.safetensors"
                    : "<stem>_<W>x<H>_wan.safetensors") + ")");
                continue;
            }
            if (!Files.isRegularFile(item.textCache())) {
                noText++;
                reporter.warn(where + ": skipping " + f.getFileName() + ": text encoder cache "
                    + item.textCache().getFileName() + " not found (run the text encoder caching for this dataset)");
                continue;
            }
            List<CacheItem> bucket = byKey.computeIfAbsent(item.bucketKey(), k -> new ArrayList<>());
            for (int r = 0; r < spec.numRepeats(); r++) {
                bucket.add(item);
            }
        }
        String problem = null;
        if (byKey.isEmpty()) {
            problem = "has " + files.size() + " latent caches but none usable: " + (noText > 0 ? noText
                + " without their *" + TEXT_SUFFIX + " text cache" : "") + (noText > 0 && badNames > 0 ? ", " : "")
                + (badNames > 0 ? badNames + " with names that do not parse" : "");
        }
        List<List<CacheItem>> buckets = new ArrayList<>();
        for (List<CacheItem> b : byKey.values()) {
            buckets.add(List.copyOf(b));
        }
        return new CachedDataset(spec, List.copyOf(byKey.keySet()), List.copyOf(buckets), problem);
    }

    private static CachedDataset empty(DatasetSpec spec, String problem) {
        return new CachedDataset(spec, List.of(), List.of(), problem);
    }

    /** Parses a latent cache file name (§4.5, §4.7), or null if it does not have the expected tokens. */
    static CacheItem parse(Path latent, DatasetSpec spec, BucketSelector selector) {
        String name = latent.getFileName().toString();
        String[] tokens = name.substring(0, name.length() - ".safetensors".length()).split("_", -1);
        int keyTokens = tokens.length - (spec.isVideo() ? 3 : 2);
        if (keyTokens < 1) {
            return null;
        }
        Matcher size = SIZE.matcher(tokens[tokens.length - 2]);
        if (!size.matches()) {
            return null;
        }
        Size original;
        try {
            original = new Size(Integer.parseInt(size.group(1)), Integer.parseInt(size.group(2)));
        } catch (NumberFormatException e) {
            return null;
        }
        if (original.width() <= 0 || original.height() <= 0) {
            return null;
        }
        Integer start = null;
        Integer frames = null;
        if (spec.isVideo()) {
            Matcher m = FRAMES.matcher(tokens[tokens.length - 3]);
            if (!m.matches()) {
                return null;
            }
            try {
                start = Integer.parseInt(m.group(1));
                frames = Integer.parseInt(m.group(2));
            } catch (NumberFormatException e) {
                return null;
            }
        }
        String itemKey = String.join("_", Arrays.copyOf(tokens, keyTokens));
        Size bucket = selector.select(original);
        BucketKey key = new BucketKey(bucket.width(), bucket.height(), spec.isVideo() ? frames : spec.fpLatentWindowSize());
        Path text = latent.resolveSibling(itemKey + TEXT_SUFFIX);
        return new CacheItem(itemKey, latent, text, key, original, bucket, start, frames);
    }

    public DatasetSpec spec() {
        return spec;
    }

    /** Bucket keys in sorted order. */
    public List<BucketKey> bucketKeys() {
        return bucketKeys;
    }

    /** The entries of bucket {@code index} (each item num_repeats times), in file-name order. */
    public List<CacheItem> bucket(int index) {
        return buckets.get(index);
    }

    /** Entries over all buckets (upstream num_train_items). */
    public int numTrainItems() {
        int n = 0;
        for (List<CacheItem> b : buckets) {
            n += b.size();
        }
        return n;
    }

    /** Σ over buckets of ceil(entries / batch_size). */
    public int batchesPerEpoch() {
        int n = 0;
        for (List<CacheItem> b : buckets) {
            n += (b.size() + spec.batchSize() - 1) / spec.batchSize();
        }
        return n;
    }

    /** Why this dataset has no entries ("does not exist", …), or null if it has some. */
    public String problem() {
        return problem;
    }

    /**
     * This dataset's batches for one epoch, bucket by bucket in key order: bucket b's entries shuffled by
     * {@link EpochShuffle#key} (seed, epoch, dataset index, b), then cut into batch_size pieces.
     */
    public List<Batch> batches(long seed, int epoch) {
        List<Batch> out = new ArrayList<>(batchesPerEpoch());
        for (int b = 0; b < buckets.size(); b++) {
            List<CacheItem> entries = EpochShuffle.shuffled(buckets.get(b), EpochShuffle.key(seed, epoch, spec.index(), b));
            for (int i = 0; i < entries.size(); i += spec.batchSize()) {
                out.add(new Batch(spec.index(), bucketKeys.get(b),
                    entries.subList(i, Math.min(entries.size(), i + spec.batchSize()))));
            }
        }
        return Collections.unmodifiableList(out);
    }
}
