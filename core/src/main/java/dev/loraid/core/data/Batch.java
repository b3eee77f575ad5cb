package dev.loraid.core.data;

import java.util.List;

/**
 * One training batch of an epoch (spec training.md §4.7): items of one bucket of one dataset, so their latents
 * have one shape. The last batch of a bucket may hold fewer than batch_size items.
 */
public record Batch(int datasetIndex, BucketKey bucketKey, List<CacheItem> items) {
    public Batch {
        items = List.copyOf(items);
    }

    public int size() {
        return items.size();
    }
}
