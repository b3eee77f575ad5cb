package dev.loraid.core.data;

import java.util.ArrayList;
import java.util.List;

/**
 * Counter-based deterministic shuffles for the epoch order (spec training.md §4.7, loraid's own order: upstream
 * seeds Python's {@code random} with dataset_seed + epoch, which cannot be reproduced here). A shuffle is a
 * Fisher–Yates pass whose i-th swap index is a SplitMix64 hash of (key, i): no generator state is carried, so
 * any epoch's order is a pure function of its key and can be recomputed on resume or on every rank.
 */
public final class EpochShuffle {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private EpochShuffle() {
    }

    /** SplitMix64's finaliser: a bijection on longs that mixes every bit into every other. */
    public static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A key for a sequence of parts; different sequences give unrelated keys (order and length matter). */
    public static long key(long... parts) {
        long h = mix(GOLDEN * (parts.length + 1));
        for (long p : parts) {
            h = mix(h ^ mix(p + GOLDEN));
        }
        return h;
    }

    /** A permutation of 0..n-1 determined by {@code key}. */
    public static int[] permutation(int n, long key) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            long r = mix(key ^ mix(i + GOLDEN)) >>> 33; // 31 random bits
            int j = (int) ((r * (i + 1)) >>> 31);      // uniform enough in [0, i]
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    /** A new list with {@code items} in the order {@link #permutation} gives for {@code key}. */
    public static <T> List<T> shuffled(List<T> items, long key) {
        int[] p = permutation(items.size(), key);
        List<T> out = new ArrayList<>(items.size());
        for (int i : p) {
            out.add(items.get(i));
        }
        return out;
    }
}
