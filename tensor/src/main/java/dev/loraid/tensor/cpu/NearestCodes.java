package dev.loraid.tensor.cpu;

import dev.loraid.tensor.DynamicQuant8;

import java.util.Arrays;

/**
 * {@link DynamicQuant8#nearest} for one map, fast: a table from a float's sign, exponent and top seven mantissa bits
 * to the code nearest the smallest magnitude with those bits, then at most one step to a neighbour across the
 * midpoint between them (the same {@code (a + b) * 0.5f} midpoints as the search). A bucket of the table is narrower
 * than the gap between two midpoints of the standard maps (checked when the table is built), so one step is enough;
 * the answer is the search's wherever x is not exactly on a midpoint, and there the search itself decides. The
 * binary search's eight dependent, unpredictable branches per moment made the 8-bit AdamW step 15 times slower than
 * the fp32 one on the CPU.
 */
final class NearestCodes {
    private static final int KEY_SHIFT = 16; // keeps sign, exponent and 7 mantissa bits
    private static final NearestCodes SIGNED = new NearestCodes(DynamicQuant8.signedMap(), true, true);
    private static final NearestCodes UNSIGNED = new NearestCodes(DynamicQuant8.unsignedMap(), false, true);

    private final float[] map;
    private final boolean signed;
    /** Midpoint above code c (+∞ above the last) and below it (−∞ below the first). */
    private final float[] above = new float[256];
    private final float[] below = new float[256];
    /** Per key, the code to start from; null: every call runs the search. */
    private final byte[] start;

    private NearestCodes(float[] map, boolean signed, boolean table) {
        this.map = map.clone();
        this.signed = signed;
        for (int c = 0; c < 256; c++) {
            above[c] = c < 255 ? (map[c] + map[c + 1]) * 0.5f : Float.POSITIVE_INFINITY;
            below[c] = c > 0 ? above[c - 1] : Float.NEGATIVE_INFINITY;
        }
        this.start = table ? new byte[1 << (32 - KEY_SHIFT)] : null;
        for (int key = 0; table && key < start.length; key++) {
            float lo = Float.intBitsToFloat(key << KEY_SHIFT);
            float hi = Float.intBitsToFloat(key << KEY_SHIFT | ((1 << KEY_SHIFT) - 1));
            int c = DynamicQuant8.nearest(this.map, inRange(lo), signed);
            start[key] = (byte) c;
            int last = DynamicQuant8.nearest(this.map, inRange(hi), signed);
            if (Float.isFinite(lo) && Math.abs(last - c) > 1) {
                throw new AssertionError("bucket " + key + " spans codes " + c + " to " + last);
            }
        }
    }

    private float inRange(float x) {
        return Float.isNaN(x) ? 0f : Math.clamp(x, signed ? -1f : 0f, 1f);
    }

    /** The searcher for {@code map}: table-driven for the two standard maps, else one that runs the search. */
    static NearestCodes of(float[] map, boolean signed) {
        NearestCodes standard = signed ? SIGNED : UNSIGNED;
        return Arrays.equals(map, standard.map) ? standard : new NearestCodes(map, signed, false);
    }

    /** The code of the map value nearest {@code x} (in the map's range), as {@link DynamicQuant8#nearest}. */
    int nearest(float x) {
        if (start == null) {
            return DynamicQuant8.nearest(map, x, signed);
        }
        int c = start[Float.floatToRawIntBits(x) >>> KEY_SHIFT] & 0xFF;
        float up = above[c];
        float down = below[c];
        if (x == up || x == down) {
            return DynamicQuant8.nearest(map, x, signed);
        }
        return c + (x > up ? 1 : 0) - (x < down ? 1 : 0);
    }
}
