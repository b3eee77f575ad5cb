package dev.loraid.tensor;

/**
 * The 8-bit blockwise dynamic quantization of bitsandbytes' optimizer states (Dettmers et al., "8-bit Optimizers via
 * Block-wise Quantization"), which {@code --optimizer_type AdamW8bit} stores its moments in (training.md §3.1): a state
 * tensor is cut into blocks of {@link #BLOCK} elements, each scaled by its largest magnitude (absmax) into [-1, 1], and
 * each element stored as the index of the nearest value of a 256-entry map. The maps are bitsandbytes'
 * {@code create_dynamic_map} (7 exponent bits): values {@code 10^-e · f}, the fractions f finer for larger values, plus
 * 0 and 1; the signed map (first moments) has both signs, the unsigned one (second moments) twice the fractions.
 * Computed here in double and rounded to fp32 once, where bitsandbytes computes them with torch's fp32 linspace: a map
 * value may differ from its in the last bit.
 */
public final class DynamicQuant8 {
    /** Elements per absmax: bitsandbytes' {@code BLOCKSIZE_2STATE}. */
    public static final int BLOCK = 256;
    private static final int EXPONENT_BITS = 7;

    private DynamicQuant8() {
    }

    /** The 256 values of the signed map, ascending (-0.99296875 … 0 … 1). */
    public static float[] signedMap() {
        return map(true);
    }

    /** The 256 values of the unsigned map, ascending (0 … 1). */
    public static float[] unsignedMap() {
        return map(false);
    }

    /** The number of blocks (absmax values) of an {@code n}-element state. */
    public static long blocks(long n) {
        return (n + BLOCK - 1) / BLOCK;
    }

    private static float[] map(boolean signed) {
        float[] out = new float[256];
        int k = 0;
        int nonSignBits = 7; // bitsandbytes takes one bit for the sign in both maps
        for (int i = 0; i < EXPONENT_BITS; i++) {
            int fractions = signed ? (1 << (i + nonSignBits - EXPONENT_BITS)) + 1 : (1 << (i + nonSignBits - EXPONENT_BITS + 1)) + 1;
            double scale = Math.pow(10, -(EXPONENT_BITS - 1) + i);
            for (int j = 0; j + 1 < fractions; j++) {
                // the mean of two neighbouring boundaries of linspace(0.1, 1, fractions)
                double lo = 0.1 + 0.9 * j / (fractions - 1);
                double hi = 0.1 + 0.9 * (j + 1) / (fractions - 1);
                double mean = (lo + hi) / 2;
                out[k++] = (float) (scale * mean);
                if (signed) {
                    out[k++] = (float) (-scale * mean);
                }
            }
        }
        out[k++] = 0f;
        out[k++] = 1f;
        if (k != 256) {
            throw new AssertionError("dynamic map of " + k + " values");
        }
        java.util.Arrays.sort(out);
        return out;
    }

    /**
     * The index of the map value nearest {@code x} (in [-1, 1], or [0, 1] for the unsigned map), by bitsandbytes' search:
     * a binary search down to two neighbours, then the nearer of them (a tie goes to the one probed last).
     */
    public static int nearest(float[] map, float x, boolean signed) {
        int pivot = 127;
        int upperPivot = 255;
        int lowerPivot = 0;
        float lower = signed ? -1f : 0f;
        float upper = 1f;
        float val = map[pivot];
        for (int i = 64; i > 0; i >>= 1) {
            if (x > val) {
                lowerPivot = pivot;
                lower = val;
                pivot += i;
            } else {
                upperPivot = pivot;
                upper = val;
                pivot -= i;
            }
            val = map[pivot];
        }
        if (x > val) {
            return x > (upper + val) * 0.5f ? upperPivot : pivot;
        }
        return x < (lower + val) * 0.5f ? lowerPivot : pivot;
    }

    /**
     * Checks the arguments of {@link Backend#adamw8bitUpdate} against its contract, naming the one at fault: every tensor
     * contiguous, param and grad F32 of one shape, m and v U8 of that shape, the absmaxes F32 [{@link #blocks}], the maps
     * F32 [256]; step ≥ 1.
     */
    public static void checkUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor absmaxM, Tensor absmaxV,
                                   Tensor mapM, Tensor mapV, long step) {
        long n = param.numel();
        Object[][] expected = {
            {"param", param, DType.F32, param.shape()}, {"grad", grad, DType.F32, param.shape()},
            {"m", m, DType.U8, param.shape()}, {"v", v, DType.U8, param.shape()},
            {"absmaxM", absmaxM, DType.F32, Shape.of(blocks(n))}, {"absmaxV", absmaxV, DType.F32, Shape.of(blocks(n))},
            {"mapM", mapM, DType.F32, Shape.of(256)}, {"mapV", mapV, DType.F32, Shape.of(256)}};
        for (Object[] e : expected) {
            Tensor t = (Tensor) e[1];
            if (t.dtype() != e[2] || !t.shape().equals(e[3]) || !t.isContiguous()) {
                throw new IllegalArgumentException("adamw8bitUpdate: " + e[0] + " must be a contiguous " + e[2] + " " + e[3]
                    + ", got " + t.dtype() + " " + t.shape() + (t.isContiguous() ? "" : " (strided)"));
            }
        }
        if (step < 1) {
            throw new IllegalArgumentException("adamw8bitUpdate step " + step + ", expected >= 1 (steps count from 1)");
        }
    }
}
