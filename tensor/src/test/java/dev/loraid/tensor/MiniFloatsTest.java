package dev.loraid.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleToIntFunction;
import java.util.function.IntToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Exhaustive checks of the narrow float formats: every bit pattern decodes to the value its sign, exponent and
 * mantissa define (computed here from the format's definition), and encoding agrees with a reference that
 * searches the decoded table for the nearest value (ties to the even mantissa) at every midpoint between
 * neighbours, just beside it, at the neighbours, and in the overflow and NaN cases.
 */
class MiniFloatsTest {
    /** A format as the standard defines it; {@code finiteOnly}: E4M3fn (no Inf, NaN only at S.1111.111). */
    record Format(String name, int expBits, int manBits, boolean finiteOnly) {
        int bits() {
            return 1 + expBits + manBits;
        }

        /** The value of bit pattern {@code code}, straight from the definition. */
        double value(int code) {
            int sign = (code >>> (expBits + manBits)) & 1;
            int exp = (code >>> manBits) & ((1 << expBits) - 1);
            int man = code & ((1 << manBits) - 1);
            int bias = (1 << (expBits - 1)) - 1;
            int maxExp = (1 << expBits) - 1;
            double v;
            if (finiteOnly && exp == maxExp && man == (1 << manBits) - 1) {
                v = Double.NaN;
            } else if (!finiteOnly && exp == maxExp) {
                v = man == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
            } else if (exp == 0) {
                v = man * Math.pow(2, 1 - bias - manBits); // subnormal: 0.man × 2^(1-bias)
            } else {
                v = ((1 << manBits) + man) * Math.pow(2, exp - bias - manBits); // 1.man × 2^(exp-bias)
            }
            return sign == 1 ? -v : v;
        }
    }

    static final Format BF16 = new Format("bf16", 8, 7, false);
    static final Format F16 = new Format("f16", 5, 10, false);
    static final Format E4M3 = new Format("e4m3fn", 4, 3, true);
    static final Format E5M2 = new Format("e5m2", 5, 2, false);

    @Test
    void everyBf16PatternDecodes() {
        checkDecode(BF16, c -> MiniFloats.bf16ToFloat((short) c));
        checkDecode(BF16, c -> readAs(DType.BF16, c));
    }

    @Test
    void everyF16PatternDecodes() {
        checkDecode(F16, c -> Float.float16ToFloat((short) c));
        checkDecode(F16, c -> readAs(DType.F16, c));
    }

    @Test
    void everyFp8PatternDecodes() {
        checkDecode(E4M3, c -> MiniFloats.e4m3ToFloat((byte) c));
        checkDecode(E5M2, c -> MiniFloats.e5m2ToFloat((byte) c));
        checkDecode(E4M3, c -> readAs(DType.F8_E4M3, c));
        checkDecode(E5M2, c -> readAs(DType.F8_E5M2, c));
    }

    @Test
    void knownAnchorValues() {
        assertEquals(1.0f, MiniFloats.bf16ToFloat((short) 0x3F80));
        assertEquals(65504f, Float.float16ToFloat((short) 0x7BFF));
        assertEquals(Math.scalb(1f, -24), Float.float16ToFloat((short) 0x0001));
        assertEquals(448f, MiniFloats.e4m3ToFloat((byte) 0x7E));
        assertEquals(Math.scalb(1f, -6), MiniFloats.e4m3ToFloat((byte) 0x08));
        assertEquals(Math.scalb(1f, -9), MiniFloats.e4m3ToFloat((byte) 0x01));
        assertTrue(Float.isNaN(MiniFloats.e4m3ToFloat((byte) 0xFF)));
        assertEquals(57344f, MiniFloats.e5m2ToFloat((byte) 0x7B));
        assertEquals(Float.NEGATIVE_INFINITY, MiniFloats.e5m2ToFloat((byte) 0xFC));
        assertEquals(Math.scalb(1f, -16), MiniFloats.e5m2ToFloat((byte) 0x01));
    }

    @Test
    void bf16EncodingIsNearestEven() {
        checkEncode(BF16, x -> MiniFloats.floatToBf16((float) x) & 0xFFFF, true);
        checkEncode(BF16, x -> MiniFloats.doubleToBf16(x) & 0xFFFF, false);
        checkEncode(BF16, x -> writeAs(DType.BF16, x), false);
    }

    @Test
    void f16EncodingIsNearestEven() {
        checkEncode(F16, x -> Float.floatToFloat16((float) x) & 0xFFFF, true);
        checkEncode(F16, x -> MiniFloats.doubleToF16(x) & 0xFFFF, false);
        checkEncode(F16, x -> writeAs(DType.F16, x), false);
    }

    @Test
    void fp8EncodingIsNearestEvenWithSaturationOrInfinity() {
        checkEncode(E4M3, x -> MiniFloats.floatToE4m3((float) x) & 0xFF, true);
        checkEncode(E4M3, x -> MiniFloats.doubleToE4m3(x) & 0xFF, false);
        checkEncode(E4M3, x -> writeAs(DType.F8_E4M3, x), false);
        checkEncode(E5M2, x -> MiniFloats.floatToE5m2((float) x) & 0xFF, true);
        checkEncode(E5M2, x -> MiniFloats.doubleToE5m2(x) & 0xFF, false);
        checkEncode(E5M2, x -> writeAs(DType.F8_E5M2, x), false);
    }

    @Test
    void doubleRoundingTrapIsAvoided() {
        // 1 + 2^-8 is the bf16 midpoint between 1 and 1+2^-7; a hair above it must round up, even though
        // rounding to float first lands exactly on the midpoint (which would tie to even: down to 1.0)
        double justAbove = 1 + Math.scalb(1.0, -8) + Math.scalb(1.0, -40);
        assertEquals(1 + Math.scalb(1.0, -8), (double) (float) justAbove);
        assertEquals(1 + Math.scalb(1.0f, -7), MiniFloats.bf16ToFloat(MiniFloats.doubleToBf16(justAbove)));
        assertEquals(1.0f, MiniFloats.bf16ToFloat(MiniFloats.floatToBf16((float) justAbove)));
    }

    private static double readAs(DType t, int code) {
        MemorySegment s = MemorySegment.ofArray(new byte[] {(byte) code, (byte) (code >>> 8)}); // little-endian
        return t.read(s, 0);
    }

    private static int writeAs(DType t, double x) {
        byte[] b = new byte[2];
        t.write(MemorySegment.ofArray(b), 0, x);
        return t.byteSize() == 1 ? b[0] & 0xFF : (b[0] & 0xFF) | (b[1] & 0xFF) << 8;
    }

    private static void checkDecode(Format f, IntToDoubleFunction decode) {
        for (int c = 0; c < 1 << f.bits(); c++) {
            double expected = f.value(c);
            double got = decode.applyAsDouble(c);
            boolean same = Double.isNaN(expected) ? Double.isNaN(got)
                : Double.doubleToRawLongBits(expected) == Double.doubleToRawLongBits(got); // tells -0 from +0
            if (!same) {
                fail(f.name() + " pattern 0x" + Integer.toHexString(c) + ": expected " + expected + ", decoded " + got);
            }
        }
    }

    /**
     * Reference encoder: nearest non-negative finite value by exact (BigDecimal) distance, ties to the even
     * mantissa; beyond the largest finite value, IEEE formats round to Inf from the midpoint up (the tie goes to
     * Inf, whose mantissa is even), E4M3fn saturates.
     */
    static final class Reference {
        final Format f;
        final int[] codes; // non-negative finite codes in increasing value order
        final double[] values;

        Reference(Format f) {
            this.f = f;
            List<Integer> list = new ArrayList<>();
            for (int c = 0; c < 1 << (f.bits() - 1); c++) {
                if (Double.isFinite(f.value(c))) {
                    list.add(c);
                }
            }
            list.sort((a, b) -> Double.compare(f.value(a), f.value(b)));
            codes = list.stream().mapToInt(Integer::intValue).toArray();
            values = list.stream().mapToDouble(f::value).toArray();
        }

        int encode(double x) {
            int sign = (Double.doubleToRawLongBits(x) < 0 ? 1 : 0) << (f.bits() - 1);
            double a = Math.abs(x);
            int n = values.length;
            double max = values[n - 1];
            if (a > max) {
                if (f.finiteOnly()) {
                    return sign | codes[n - 1];
                }
                double overflowMid = max + (max - values[n - 2]) / 2;
                int inf = ((1 << f.expBits()) - 1) << f.manBits();
                return sign | (a >= overflowMid ? inf : codes[n - 1]);
            }
            int lo = 0;
            int hi = n - 1;
            while (hi - lo > 1) { // values[lo] <= a <= values[hi]
                int mid = (lo + hi) >>> 1;
                if (values[mid] <= a) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            if (values[lo] == a) {
                return sign | codes[lo];
            }
            BigDecimal ba = new BigDecimal(a);
            int cmp = ba.subtract(new BigDecimal(values[lo])).compareTo(new BigDecimal(values[hi]).subtract(ba));
            int pick = cmp < 0 ? lo : cmp > 0 ? hi : ((codes[lo] & 1) == 0 ? lo : hi);
            return sign | codes[pick];
        }
    }

    /** Encodes midpoints, their neighbours, the table values, overflow, ±0, ±Inf and NaN, with both signs. */
    private static void checkEncode(Format f, DoubleToIntFunction encode, boolean floatInputs) {
        Reference ref = new Reference(f);
        List<Double> inputs = new ArrayList<>();
        double[] v = ref.values;
        for (int i = 0; i < v.length; i++) {
            inputs.add(v[i]);
            double next = i + 1 < v.length ? v[i + 1] : v[i] + (v[i] - v[i - 1]); // past max: the virtual next value
            double mid = v[i] + (next - v[i]) / 2; // exact: one more mantissa bit than the format
            inputs.add(mid);
            if (floatInputs) {
                inputs.add((double) Math.nextUp((float) mid));
                inputs.add((double) Math.nextDown((float) mid));
            } else {
                inputs.add(Math.nextUp(mid));
                inputs.add(Math.nextDown(mid));
            }
        }
        inputs.add(v[v.length - 1] * 4);
        inputs.add(floatInputs ? Float.MAX_VALUE : 1e300);
        inputs.add(floatInputs ? Float.MIN_VALUE : 1e-300);
        inputs.add(Double.POSITIVE_INFINITY);
        for (double x : inputs) {
            for (double s : new double[] {x, -x}) {
                int expected = ref.encode(s);
                int got = encode.applyAsInt(s);
                if (got != expected) {
                    fail(f.name() + " encode(" + s + "): expected 0x" + Integer.toHexString(expected) + " (" + f.value(expected)
                        + "), got 0x" + Integer.toHexString(got) + " (" + f.value(got) + ")");
                }
            }
        }
        for (double nan : new double[] {Double.NaN, -Double.NaN, Double.longBitsToDouble(0x7FF0000000000001L)}) {
            int got = encode.applyAsInt(nan);
            assertTrue(Double.isNaN(f.value(got)), f.name() + " encode(NaN) gave 0x" + Integer.toHexString(got));
        }
    }
}
