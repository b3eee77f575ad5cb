package dev.loraid.core.data;

/**
 * The key that groups cached items into batches (spec training.md §4.7): the bucket resolution plus, for video
 * datasets, the frame count of the crop, and for image datasets {@code fp_latent_window_size} (default 9).
 * Items share a batch only if their keys are equal. Ordered like upstream's sorted tuples.
 */
public record BucketKey(int width, int height, int third) implements Comparable<BucketKey> {
    @Override
    public int compareTo(BucketKey o) {
        int c = Integer.compare(width, o.width);
        if (c == 0) {
            c = Integer.compare(height, o.height);
        }
        return c != 0 ? c : Integer.compare(third, o.third);
    }

    /** Upstream's tuple spelling, e.g. {@code (48, 32, 9)}. */
    @Override
    public String toString() {
        return "(" + width + ", " + height + ", " + third + ")";
    }
}
