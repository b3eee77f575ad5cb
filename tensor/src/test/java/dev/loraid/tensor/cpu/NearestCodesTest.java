package dev.loraid.tensor.cpu;

import dev.loraid.tensor.DynamicQuant8;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link NearestCodes}' table and steps give {@link DynamicQuant8#nearest}'s code for every x tried: uniform and
 * log-uniform values of both signs, every map value, every midpoint between neighbours (where the search decides) and
 * the floats next to them; and for a map that is not a standard one (no table).
 */
class NearestCodesTest {
    @Test
    void sameCodesAsTheSearch() {
        for (boolean signed : new boolean[] {true, false}) {
            float[] map = signed ? DynamicQuant8.signedMap() : DynamicQuant8.unsignedMap();
            NearestCodes fast = NearestCodes.of(map, signed);
            Random rnd = new Random(signed ? 1 : 2);
            for (int k = 0; k < 200_000; k++) {
                float x = (float) (k % 2 == 0 ? rnd.nextDouble() : Math.pow(10, -8 * rnd.nextDouble()));
                check(fast, map, signed && rnd.nextBoolean() ? -x : x, signed);
            }
            for (int c = 0; c < 256; c++) {
                check(fast, map, map[c], signed);
                if (c > 0) {
                    float mid = (map[c - 1] + map[c]) * 0.5f;
                    for (float x : new float[] {mid, Math.nextUp(mid), Math.nextDown(mid)}) {
                        check(fast, map, x, signed);
                    }
                }
            }
            float[] shifted = map.clone();
            shifted[200] = (shifted[199] + shifted[201]) / 2;
            NearestCodes other = NearestCodes.of(shifted, signed);
            for (int k = 0; k < 1000; k++) {
                check(other, shifted, (float) rnd.nextDouble(), signed);
            }
        }
    }

    private static void check(NearestCodes fast, float[] map, float x, boolean signed) {
        if (!signed && x < 0) {
            return;
        }
        assertEquals(DynamicQuant8.nearest(map, x, signed), fast.nearest(x), "x = " + x + (signed ? " (signed)" : ""));
    }
}
