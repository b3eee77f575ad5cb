package dev.loraid.core.cache;

import dev.loraid.core.data.Size;

/**
 * Scaling a picture to its bucket (spec training.md §4.4, upstream {@code resize_image_to_bucket}): scale =
 * max(bw/iw, bh/ih), new size (int(iw·scale + 0.5), int(ih·scale + 0.5)); scale > 1 resamples with Pillow's LANCZOS,
 * otherwise with OpenCV's INTER_AREA; then the centre crop at ((nw - bw) // 2, (nh - bh) // 2).
 *
 * <p>{@link #lanczos} follows Pillow's 8-bit path ({@code Resample.c}): separable, horizontal pass first with an
 * 8-bit intermediate, a pass skipped when that size is unchanged, coefficients normalised then rounded to 22-bit
 * fixed point, a half added before the shift, results clamped to 0..255. It should agree with Pillow bit for bit; the
 * only difference we know of is libm's {@code sin} against Java's {@code Math.sin} (at most 1 ulp), which can move a
 * coefficient's last fixed-point bit and so, rarely, a pixel by 1.
 *
 * <p>{@link #area} follows OpenCV's generic {@code resizeArea} for shrinking: per-axis overlap weights
 * ({@code computeResizeAreaTab}, overlaps under 1e-3 dropped), float accumulation, rounding half to even. OpenCV
 * takes a SIMD fast path for integer factors ({@code resizeAreaFast}, e.g. 2×2 averages as (a+b+c+d+2)>>2, which
 * rounds halves up): there we may differ by 1 on exact .5 averages. Where the float sums of the two differ in the
 * last bit (accumulation order), a pixel can also differ by 1.
 */
public final class Resize {
    /** Pillow: PRECISION_BITS = 32 - 8 - 2. */
    private static final int PRECISION_BITS = 22;

    private Resize() {
    }

    /** The bucket-sized picture upstream feeds the VAE. */
    public static RgbImage toBucket(RgbImage image, Size bucket) {
        int iw = image.width();
        int ih = image.height();
        int bw = bucket.width();
        int bh = bucket.height();
        if (iw == bw && ih == bh) {
            return image;
        }
        double scale = Math.max((double) bw / iw, (double) bh / ih);
        int nw = (int) (iw * scale + 0.5);
        int nh = (int) (ih * scale + 0.5);
        RgbImage resized = scale > 1 ? lanczos(image, nw, nh) : area(image, nw, nh);
        return resized.crop((nw - bw) / 2, (nh - bh) / 2, bw, bh);
    }

    // ---- Pillow LANCZOS ----

    static double lanczosKernel(double x) {
        if (-3.0 <= x && x < 3.0) {
            return sinc(x) * sinc(x / 3.0);
        }
        return 0.0;
    }

    private static double sinc(double x) {
        if (x == 0.0) {
            return 1.0;
        }
        x *= Math.PI;
        return Math.sin(x) / x;
    }

    /** Pillow's {@code precompute_coeffs}: per output index, the first input index and fixed-point weights. */
    record Coeffs(int[] start, int[][] weights) {
    }

    static Coeffs lanczosCoeffs(int inSize, int outSize) {
        double scale = (double) inSize / outSize;
        double filterscale = Math.max(scale, 1.0);
        double support = 3.0 * filterscale;
        int[] start = new int[outSize];
        int[][] weights = new int[outSize][];
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            double ss = 1.0 / filterscale;
            int xmin = Math.max((int) (center - support + 0.5), 0);
            int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
            double[] k = new double[xmax];
            double ww = 0.0;
            for (int x = 0; x < xmax; x++) {
                double w = lanczosKernel((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            int[] kk = new int[xmax];
            for (int x = 0; x < xmax; x++) {
                double v = ww != 0.0 ? k[x] / ww : k[x];
                kk[x] = v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS)) : (int) (0.5 + v * (1 << PRECISION_BITS));
            }
            start[xx] = xmin;
            weights[xx] = kk;
        }
        return new Coeffs(start, weights);
    }

    private static int clip8(long acc) {
        long v = acc >> PRECISION_BITS;
        return (int) Math.max(0, Math.min(255, v));
    }

    /** Pillow {@code Image.resize((w, h), LANCZOS)} on an RGB image. */
    public static RgbImage lanczos(RgbImage in, int outW, int outH) {
        RgbImage img = in;
        if (outW != img.width()) {
            Coeffs c = lanczosCoeffs(img.width(), outW);
            byte[] out = new byte[outW * img.height() * 3];
            for (int y = 0; y < img.height(); y++) {
                for (int x = 0; x < outW; x++) {
                    int[] k = c.weights()[x];
                    for (int ch = 0; ch < 3; ch++) {
                        long acc = 1L << (PRECISION_BITS - 1);
                        for (int i = 0; i < k.length; i++) {
                            acc += (long) img.get(c.start()[x] + i, y, ch) * k[i];
                        }
                        out[(y * outW + x) * 3 + ch] = (byte) clip8(acc);
                    }
                }
            }
            img = new RgbImage(outW, img.height(), out);
        }
        if (outH != img.height()) {
            Coeffs c = lanczosCoeffs(img.height(), outH);
            byte[] out = new byte[img.width() * outH * 3];
            for (int y = 0; y < outH; y++) {
                int[] k = c.weights()[y];
                for (int x = 0; x < img.width(); x++) {
                    for (int ch = 0; ch < 3; ch++) {
                        long acc = 1L << (PRECISION_BITS - 1);
                        for (int i = 0; i < k.length; i++) {
                            acc += (long) img.get(x, c.start()[y] + i, ch) * k[i];
                        }
                        out[(y * img.width() + x) * 3 + ch] = (byte) clip8(acc);
                    }
                }
            }
            img = new RgbImage(img.width(), outH, out);
        }
        return img;
    }

    // ---- OpenCV INTER_AREA (shrinking) ----

    /** One source index and its weight for one destination index. */
    record Tap(int dst, int src, float weight) {
    }

    /** OpenCV {@code computeResizeAreaTab}. */
    static java.util.List<Tap> areaTab(int ssize, int dsize, double scale) {
        java.util.List<Tap> tab = new java.util.ArrayList<>();
        for (int dx = 0; dx < dsize; dx++) {
            double fsx1 = dx * scale;
            double fsx2 = fsx1 + scale;
            double cellWidth = Math.min(scale, ssize - fsx1);
            int sx1 = (int) Math.ceil(fsx1);
            int sx2 = (int) Math.floor(fsx2);
            sx2 = Math.min(sx2, ssize - 1);
            sx1 = Math.min(sx1, sx2);
            if (sx1 - fsx1 > 1e-3) {
                tab.add(new Tap(dx, sx1 - 1, (float) ((sx1 - fsx1) / cellWidth)));
            }
            for (int sx = sx1; sx < sx2; sx++) {
                tab.add(new Tap(dx, sx, (float) (1.0 / cellWidth)));
            }
            if (fsx2 - sx2 > 1e-3) {
                tab.add(new Tap(dx, sx2, (float) (Math.min(Math.min(fsx2 - sx2, 1.0), cellWidth) / cellWidth)));
            }
        }
        return tab;
    }

    /** OpenCV {@code cv2.resize(img, (w, h), interpolation=INTER_AREA)} for w ≤ width and h ≤ height. */
    public static RgbImage area(RgbImage in, int outW, int outH) {
        if (outW > in.width() || outH > in.height()) {
            throw new IllegalArgumentException("area resampling shrinks; asked " + in.width() + "x" + in.height()
                + " -> " + outW + "x" + outH);
        }
        if (outW == in.width() && outH == in.height()) {
            return in;
        }
        java.util.List<Tap> xtab = areaTab(in.width(), outW, (double) in.width() / outW);
        java.util.List<Tap> ytab = areaTab(in.height(), outH, (double) in.height() / outH);
        float[] rows = new float[outH * outW * 3];
        float[] row = new float[outW * 3];
        for (Tap ty : ytab) {
            java.util.Arrays.fill(row, 0f);
            for (Tap tx : xtab) {
                for (int ch = 0; ch < 3; ch++) {
                    row[tx.dst() * 3 + ch] += in.get(tx.src(), ty.src(), ch) * tx.weight();
                }
            }
            int base = ty.dst() * outW * 3;
            for (int i = 0; i < row.length; i++) {
                rows[base + i] += row[i] * ty.weight();
            }
        }
        byte[] out = new byte[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = (byte) Math.max(0, Math.min(255, (int) Math.rint(rows[i])));
        }
        return new RgbImage(outW, outH, out);
    }
}
