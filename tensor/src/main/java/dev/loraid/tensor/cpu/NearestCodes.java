package dev.loraid.tensor.cpu;

import dev.loraid.tensor.DynamicQuant8;

import java.util.Arrays;

/**
 * {@link DynamicQuant8#nearest} for one map, fast: a table from a float's sign, exponent and top four mantissa bits to
 * the code nearest the smallest magnitude with those bits, then a step or two along the midpoints between neighbouring
 * codes (the same {@code (a + b) * 0.5f} midpoints as the search). That is the search's answer wherever x is not exactly
 * on a midpoint; there the search itself decides. Measured on the 8-bit AdamW step: the binary search's eight dependent,
 * unpredictable branches per moment made it 15 times slower than the fp32 step.
 */
final class NearestCodes {
    private static final int KEY_SHIFT = 19; // keeps sign, exponent and 4 mantissa bits
    private static final NearestCodes SIGNED = new NearestCodes(DynamicQuant8.signedMap(), true, true);
    private static final NearestCodes UNSIGNED = new NearestCodes(DynamicQuant8.unsignedMap(), false, true);

    private final float[] map;
    private final boolean signed;
    /** Per key, the code to start stepping from; null: every call runs the search. */
    private final byte[] start;

    private NearestCodes(float[] map, boolean signed, boolean table) {
        this.map = map.clone();
        this.signed = signed;
        this.start = table ? new byte[1 << (32 - KEY_SHIFT)] : null;
        for (int key = 0; table && key < start.length; key++) {
            float x = Float.intBitsToFloat(key << KEY_SHIFT);
            float inRange = Float.isNaN(x) ? 0f : Math.clamp(x, signed ? -1f : 0f, 1f);
            start[key] = (byte) DynamicQuant8.nearest(this.map, inRange, signed);
        }
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
        while (true) {
            if (c < 255) {
                float up = (map[c] + map[c + 1]) * 0.5f;
                if (x > up) {
                    c++;
                    continue;
                }
                if (x == up) {
                    return DynamicQuant8.nearest(map, x, signed);
                }
            }
            if (c > 0) {
                float down = (map[c - 1] + map[c]) * 0.5f;
                if (x < down) {
                    c--;
                    continue;
                }
                if (x == down) {
                    return DynamicQuant8.nearest(map, x, signed);
                }
            }
            return c;
        }
    }
}
