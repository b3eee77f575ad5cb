package dev.loraid.tensor;

/**
 * Bit-exact conversions between float/double and the narrow float formats (bf16, fp16, fp8 E4M3fn, fp8 E5M2),
 * rounding to nearest, ties to even. From a double the rounding is done once, from the double itself (going
 * through float first would round twice and can break ties the wrong way).
 *
 * <ul>
 *   <li>bf16, fp16, E5M2 are IEEE-like: overflow rounds to ±Inf (past the midpoint above the largest finite
 *       value), NaN stays NaN (quiet, sign kept), subnormals are kept.</li>
 *   <li>E4M3fn (OCP FP8, "fn": finite) has no infinities and one NaN per sign (S.1111.111); conversions
 *       saturate: anything beyond ±448, ±Inf included, becomes ±448, as musubi's fp8 path clamps (spec wan.md
 *       §3.3). NaN becomes NaN.</li>
 * </ul>
 */
public final class MiniFloats {
    private MiniFloats() {
    }

    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if (Float.isNaN(f)) {
            return (short) ((bits >>> 16) | 0x0040); // keep sign and payload top bits, force quiet
        }
        int roundingBias = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    public static short doubleToBf16(double d) {
        float f = (float) d;
        return f == d || Double.isNaN(d) ? floatToBf16(f) : (short) encode(d, BF16);
    }

    public static short doubleToF16(double d) {
        float f = (float) d;
        return f == d || Double.isNaN(d) ? Float.floatToFloat16(f) : (short) encode(d, F16);
    }

    public static float e4m3ToFloat(byte bits) {
        return E4M3_TABLE[bits & 0xFF];
    }

    public static float e5m2ToFloat(byte bits) {
        return E5M2_TABLE[bits & 0xFF];
    }

    /** E4M3fn: saturates to ±448 on overflow (and for ±Inf); NaN maps to the NaN pattern 0x7F/0xFF. */
    public static byte floatToE4m3(float f) {
        return (byte) encode(f, E4M3);
    }

    public static byte doubleToE4m3(double d) {
        return (byte) encode(d, E4M3);
    }

    /** E5M2: IEEE-like; overflow beyond the rounding midpoint of the max finite value gives ±Inf. */
    public static byte floatToE5m2(float f) {
        return (byte) encode(f, E5M2);
    }

    public static byte doubleToE5m2(double d) {
        return (byte) encode(d, E5M2);
    }

    /** A binary float format with a sign bit, {@code expBits} exponent bits and {@code manBits} stored mantissa bits. */
    private record Format(int expBits, int manBits, boolean finiteOnly) {
        int bias() {
            return (1 << (expBits - 1)) - 1;
        }

        int maxExpField() {
            return (1 << expBits) - 1;
        }

        int manMask() {
            return (1 << manBits) - 1;
        }

        /** IEEE: a quiet NaN; fn: the single NaN code (all exponent and mantissa bits set). */
        int nanCode() {
            return finiteOnly ? (maxExpField() << manBits) | manMask() : (maxExpField() << manBits) | (1 << (manBits - 1));
        }

        /** IEEE: the exponent field all ones is reserved; fn: only the NaN code is. */
        int maxFiniteCode() {
            return finiteOnly ? nanCode() - 1 : ((maxExpField() - 1) << manBits) | manMask();
        }
    }

    private static final Format BF16 = new Format(8, 7, false);
    private static final Format F16 = new Format(5, 10, false);
    private static final Format E4M3 = new Format(4, 3, true);
    private static final Format E5M2 = new Format(5, 2, false);

    private static final float[] E4M3_TABLE = new float[256];
    private static final float[] E5M2_TABLE = new float[256];

    static {
        for (int b = 0; b < 256; b++) {
            E4M3_TABLE[b] = decode(b, E4M3);
            E5M2_TABLE[b] = decode(b, E5M2);
        }
    }

    private static float decode(int b, Format fmt) {
        int sign = (b >>> (fmt.expBits() + fmt.manBits())) & 1;
        int exp = (b >>> fmt.manBits()) & fmt.maxExpField();
        int man = b & fmt.manMask();
        double v;
        if (!fmt.finiteOnly() && exp == fmt.maxExpField()) {
            v = man == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (fmt.finiteOnly() && (b & 0x7F) == fmt.nanCode()) {
            v = Double.NaN;
        } else if (exp == 0) {
            v = man * Math.scalb(1.0, 1 - fmt.bias() - fmt.manBits());
        } else {
            v = (1.0 + man / (double) (1 << fmt.manBits())) * Math.scalb(1.0, exp - fmt.bias());
        }
        return (float) (sign == 1 ? -v : v);
    }

    /** Rounds {@code d} to nearest-even in {@code fmt}; returns the code with the sign bit in place. */
    private static int encode(double d, Format fmt) {
        int signBit = (int) (Double.doubleToRawLongBits(d) >>> 63) << (fmt.expBits() + fmt.manBits());
        if (Double.isNaN(d)) {
            return signBit | fmt.nanCode();
        }
        double a = Math.abs(d);
        int m = fmt.manBits();
        long code;
        if (Double.isInfinite(a)) {
            code = Long.MAX_VALUE;
        } else if (a == 0) {
            code = 0;
        } else {
            int e = Math.getExponent(a);
            if (e < 1 - fmt.bias()) {
                // subnormal: multiples of 2^(1-bias-m); rounding up to 2^m is the first normal's code, as wanted
                code = (long) Math.rint(Math.scalb(a, m - (1 - fmt.bias())));
            } else {
                // q in [2^m, 2^(m+1)]: q == 2^(m+1) carries into the exponent field, which the sum does by itself
                long q = (long) Math.rint(Math.scalb(a, m - e));
                code = ((long) (e + fmt.bias()) << m) + q - (1L << m);
            }
        }
        if (code > fmt.maxFiniteCode()) {
            code = fmt.finiteOnly() ? fmt.maxFiniteCode() : (long) fmt.maxExpField() << m;
        }
        return signBit | (int) code;
    }
}
