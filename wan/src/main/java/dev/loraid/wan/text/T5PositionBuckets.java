package dev.loraid.wan.text;

import dev.loraid.tensor.Tensor;

/**
 * T5's bidirectional relative-position buckets (spec vae-t5.md §3, "Relative position bucket"): the bias of query q
 * and key k is row {@code bucket(k − q)} of a layer's {@code [num_buckets, heads]} table. Half the buckets are for
 * keys to the right (rel &gt; 0); within a half the first {@code half/2} distances are exact and the rest are
 * logarithmic up to {@code max_distance}, then clamped to the last bucket.
 */
public final class T5PositionBuckets {
    private T5PositionBuckets() {
    }

    /** The bucket of {@code rel = key − query} (upstream {@code T5RelativeEmbedding._relative_position_bucket}). */
    public static int bucket(long rel, int numBuckets, int maxDistance) {
        int half = numBuckets / 2;
        int base = rel > 0 ? half : 0;
        long n = Math.abs(rel);
        int maxExact = half / 2;
        if (n < maxExact) {
            return base + (int) n;
        }
        // torch evaluates this in float32: log(n / max_exact) / log(max_dist / max_exact) · (half − max_exact), then
        // truncates (.long()). Beyond ~max_distance the clamp decides, so float32 rounding never reaches the table
        // for large n; the spec checked float32 = float64 for every n ≤ 600.
        float ratio = (float) n / maxExact;
        float scaled = (float) Math.log(ratio) / (float) Math.log((double) maxDistance / maxExact) * (half - maxExact);
        long large = maxExact + (long) scaled;
        return base + (int) Math.min(large, half - 1);
    }

    /** {@code [lq, lk]} I64 table: element (q, k) is {@code bucket(k − q)}. */
    public static Tensor table(int lq, int lk, int numBuckets, int maxDistance) {
        long[] out = new long[lq * lk];
        for (int q = 0; q < lq; q++) {
            for (int k = 0; k < lk; k++) {
                out[q * lk + k] = bucket(k - q, numBuckets, maxDistance);
            }
        }
        return Tensor.ofLongs(out, lq, lk);
    }
}
