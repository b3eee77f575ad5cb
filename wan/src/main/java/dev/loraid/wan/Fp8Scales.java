package dev.loraid.wan;

/**
 * musubi's fp8-scaled weights (spec wan.md §3.3): an E4M3 weight [out, in] and a scale that is block-wise along
 * the input ([out, in/64, 1], the default), per output row ([out, 1], when in % 64 ≠ 0) or one number ([1]).
 * Dequantised: {@code W[o, i] = Wq[o, i] · scale[o, i / 64]}.
 */
public final class Fp8Scales {
    /** Block length along the input dimension. */
    public static final int BLOCK = 64;

    private Fp8Scales() {
    }

    static boolean isValidScaleShape(long[] scale, long[] weight) {
        if (scale.length == 1) {
            return scale[0] == 1;
        }
        if (scale.length == 2) {
            return scale[0] == weight[0] && scale[1] == 1;
        }
        return scale.length == 3 && weight[1] % BLOCK == 0 && scale[0] == weight[0]
                && scale[1] == weight[1] / BLOCK && scale[2] == 1;
    }
}
