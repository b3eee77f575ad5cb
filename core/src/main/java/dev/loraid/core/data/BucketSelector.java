package dev.loraid.core.data;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Picks the bucket resolution for an image or video of a given size (spec training.md §4.4, upstream
 * {@code dataset/bucket.py BucketSelector}, Wan step 16).
 *
 * <p>With bucketing, the buckets cover the resolution's area A: for w = min_size, min_size+16, … below
 * floor(√A)+16, h = divisibleBy(A / w) gives (w, h) and (h, w); deduplicated and sorted. A size goes to the
 * bucket whose aspect ratio is nearest (first in sorted order on ties), or with {@code bucket_no_upscale} and an
 * area ≤ A to its own size rounded down to multiples of 16. Without bucketing there is one bucket, the
 * resolution itself, and {@code bucket_no_upscale} is ignored.
 */
public final class BucketSelector {
    /** Wan's resolution step (upstream {@code RESOLUTION_STEPS_HUNYUAN}, shared by all architectures here). */
    public static final int STEP = 16;

    private final Size resolution;
    private final long area;
    private final boolean noUpscale;
    private final List<Size> buckets;
    private final double[] aspectRatios;

    public BucketSelector(Size resolution, boolean enableBucket, boolean noUpscale) {
        if (resolution.width() <= 0 || resolution.height() <= 0) {
            throw new IllegalArgumentException("resolution must be positive, got " + resolution);
        }
        this.resolution = resolution;
        this.area = resolution.area();
        if (!enableBucket) {
            this.noUpscale = false;
            this.buckets = List.of(resolution);
        } else {
            this.noUpscale = noUpscale;
            int sqrt = (int) Math.sqrt((double) area);
            int minSize = divisibleBy(sqrt / 2);
            if (minSize == 0) {
                // upstream divides by w = 0 here; say why instead
                throw new IllegalArgumentException("resolution " + resolution + " is too small for bucketing: "
                    + "floor(sqrt(" + area + "))/2 must be at least " + STEP);
            }
            TreeSet<Size> set = new TreeSet<>((a, b) -> a.width() != b.width()
                ? Integer.compare(a.width(), b.width()) : Integer.compare(a.height(), b.height()));
            for (int w = minSize; w < sqrt + STEP; w += STEP) {
                int h = divisibleBy((int) (area / w));
                set.add(new Size(w, h));
                set.add(new Size(h, w));
            }
            this.buckets = List.copyOf(new ArrayList<>(set));
        }
        this.aspectRatios = new double[buckets.size()];
        for (int i = 0; i < buckets.size(); i++) {
            aspectRatios[i] = (double) buckets.get(i).width() / buckets.get(i).height();
        }
    }

    static int divisibleBy(int x) {
        return x - x % STEP;
    }

    public Size resolution() {
        return resolution;
    }

    /** The bucket resolutions in upstream's sorted order. */
    public List<Size> buckets() {
        return buckets;
    }

    /** The bucket for an item whose (original) size is {@code size}. */
    public Size select(Size size) {
        if (noUpscale && size.area() <= area) {
            return new Size(divisibleBy(size.width()), divisibleBy(size.height()));
        }
        double ar = (double) size.width() / size.height();
        int best = 0;
        double bestErr = Double.POSITIVE_INFINITY;
        for (int i = 0; i < aspectRatios.length; i++) {
            double err = Math.abs(aspectRatios[i] - ar);
            if (err < bestErr) { // strict: the first of equal errors wins, as numpy argmin
                bestErr = err;
                best = i;
            }
        }
        return buckets.get(best);
    }
}
