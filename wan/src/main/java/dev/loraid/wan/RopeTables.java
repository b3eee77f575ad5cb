package dev.loraid.wan;

import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;

/**
 * The 3-D RoPE angles of a token grid (spec wan.md §2.8). Per head the d/2 complex pairs split into frame, height
 * and width groups of {@code c − 2·⌊c/3⌋}, {@code ⌊c/3⌋}, {@code ⌊c/3⌋} pairs (c = d/2); each axis has its own
 * exponent dimension ({@code d − 4·⌊d/6⌋}, {@code 2·⌊d/6⌋}, {@code 2·⌊d/6⌋}) and restarts k at 0.
 * Computed in float64, as upstream does.
 */
public final class RopeTables {
    private static final double THETA = 10000.0;
    /** Upstream precomputes positions 0..1023 per axis (pitfall 21). */
    public static final int MAX_POSITION = 1024;

    private final Tensor cos;
    private final Tensor sin;

    private RopeTables(Tensor cos, Tensor sin) {
        this.cos = cos;
        this.sin = sin;
    }

    /** Tables for the f×h×w grid, tokens in f-major, then h, then w order (§2.2). */
    public static RopeTables of(int headDim, int f, int h, int w) {
        return of(headDim, java.util.stream.IntStream.range(0, f).toArray(), h, w);
    }

    /**
     * Tables for a grid whose frames sit at the given positions on the frame axis (upstream's {@code f_indices}, used by
     * one-frame inference, musubi docs/wan_1f.md: e.g. a control frame at 0 and the generated one at 1 or further).
     */
    public static RopeTables of(int headDim, int[] framePositions, int h, int w) {
        int f = framePositions.length;
        for (int p : framePositions) {
            if (p < 0 || p >= MAX_POSITION) {
                throw new IllegalArgumentException("frame position " + p + " is outside the RoPE table's 0.."
                        + (MAX_POSITION - 1));
            }
        }
        if (h > MAX_POSITION || w > MAX_POSITION) {
            throw new IllegalArgumentException("token grid " + f + "x" + h + "x" + w + " exceeds the RoPE table's "
                    + MAX_POSITION + " positions per axis");
        }
        int c = headDim / 2;
        int hwPairs = c / 3;
        int fPairs = c - 2 * hwPairs;
        double[] freqF = frequencies(fPairs, headDim - 4 * (headDim / 6));
        double[] freqH = frequencies(hwPairs, 2 * (headDim / 6));
        double[] freqW = frequencies(hwPairs, 2 * (headDim / 6));
        int tokens = f * h * w;
        double[] cos = new double[tokens * c];
        double[] sin = new double[tokens * c];
        for (int fi = 0; fi < f; fi++) {
            for (int hi = 0; hi < h; hi++) {
                for (int wi = 0; wi < w; wi++) {
                    int row = ((fi * h + hi) * w + wi) * c;
                    int j = 0;
                    for (double om : freqF) {
                        set(cos, sin, row + j++, framePositions[fi] * om);
                    }
                    for (double om : freqH) {
                        set(cos, sin, row + j++, hi * om);
                    }
                    for (double om : freqW) {
                        set(cos, sin, row + j++, wi * om);
                    }
                }
            }
        }
        return new RopeTables(Tensor.ofDoubles(cos, tokens, c), Tensor.ofDoubles(sin, tokens, c));
    }

    /** ω_k = 1 / θ^(2k/m) for k = 0..n-1. */
    private static double[] frequencies(int n, int m) {
        double[] out = new double[n];
        for (int k = 0; k < n; k++) {
            out[k] = 1.0 / Math.pow(THETA, (2.0 * k) / m);
        }
        return out;
    }

    private static void set(double[] cos, double[] sin, int i, double angle) {
        cos[i] = Math.cos(angle);
        sin[i] = Math.sin(angle);
    }

    /** The same tables on {@code device} (copied once per forward, from the current memory scope; this on the CPU). */
    public RopeTables to(Device device) {
        return cos.device().equals(device) ? this : new RopeTables(cos.to(device), sin.to(device));
    }

    /** cos of the angles, [tokens, headDim/2] F64. */
    public Tensor cos() {
        return cos;
    }

    /** sin of the angles, [tokens, headDim/2] F64. */
    public Tensor sin() {
        return sin;
    }
}
