package dev.loraid.tensor;

/**
 * Bit-exact conversions between float and the narrow float formats (bf16, fp8 E4M3fn, fp8 E5M2),
 * rounding to nearest, ties to even. fp16 uses {@link Float#floatToFloat16} / {@link Float#float16ToFloat},
 * which already round to nearest-even.
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

    private static final float[] E4M3_TABLE = new float[256];
    private static final float[] E5M2_TABLE = new float[256];

    static {
        for (int b = 0; b < 256; b++) {
            E4M3_TABLE[b] = decode(b, 4, 3, 7, false);
            E5M2_TABLE[b] = decode(b, 5, 2, 15, true);
        }
    }

    public static float e4m3ToFloat(byte bits) {
        return E4M3_TABLE[bits & 0xFF];
    }

    public static float e5m2ToFloat(byte bits) {
        return E5M2_TABLE[bits & 0xFF];
    }

    /** E4M3fn: saturates to ±448 on overflow (and for ±Inf); NaN maps to the NaN pattern 0x7F/0xFF. */
    public static byte floatToE4m3(float f) {
        return encode(f, 4, 3, 7, false);
    }

    /** E5M2: IEEE-like; overflow beyond the rounding midpoint of the max finite value gives ±Inf. */
    public static byte floatToE5m2(float f) {
        return encode(f, 5, 2, 15, true);
    }

    private static float decode(int b, int expBits, int manBits, int bias, boolean ieee) {
        int sign = (b >>> (expBits + manBits)) & 1;
        int exp = (b >>> manBits) & ((1 << expBits) - 1);
        int man = b & ((1 << manBits) - 1);
        int maxExp = (1 << expBits) - 1;
        double v;
        if (ieee && exp == maxExp) {
            v = man == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else if (!ieee && exp == maxExp && man == (1 << manBits) - 1) {
            v = Double.NaN;
        } else if (exp == 0) {
            v = man * Math.scalb(1.0, 1 - bias - manBits);
        } else {
            v = (1.0 + man / (double) (1 << manBits)) * Math.scalb(1.0, exp - bias);
        }
        return (float) (sign == 1 ? -v : v);
    }

    private static byte encode(float f, int expBits, int manBits, int bias, boolean ieee) {
        int signBit = (Float.floatToRawIntBits(f) >>> 31) << (expBits + manBits);
        int maxExp = (1 << expBits) - 1;
        int nanCode = ieee ? (maxExp << manBits) | (1 << (manBits - 1)) : (maxExp << manBits) | ((1 << manBits) - 1);
        int infCode = maxExp << manBits;
        // largest finite code: E5M2 has exponent field maxExp reserved; E4M3fn only reserves mantissa all-ones there
        int maxFinite = ieee ? ((maxExp - 1) << manBits) | ((1 << manBits) - 1) : nanCode - 1;
        if (Float.isNaN(f)) {
            return (byte) (signBit | nanCode);
        }
        double a = Math.abs((double) f);
        int code;
        if (Double.isInfinite(a)) {
            code = Integer.MAX_VALUE;
        } else if (a == 0) {
            code = 0;
        } else {
            int e = Math.getExponent(a);
            if (e < 1 - bias) {
                // subnormal range: multiples of 2^(1-bias-manBits); a carry into the first normal works out in the code
                code = (int) Math.rint(Math.scalb(a, -(1 - bias - manBits)));
            } else {
                double q = Math.rint(Math.scalb(a, manBits - e)); // in [2^m, 2^(m+1)]
                long c = ((long) (e + bias) << manBits) + (long) q - (1L << manBits);
                code = c > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) c;
            }
        }
        if (code > maxFinite) {
            code = ieee ? infCode : maxFinite;
        }
        return (byte) (signBit | code);
    }
}
