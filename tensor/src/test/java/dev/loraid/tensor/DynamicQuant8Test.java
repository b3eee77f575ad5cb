package dev.loraid.tensor;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link DynamicQuant8}'s maps against values worked out by hand from bitsandbytes' {@code create_dynamic_map}
 * (7 exponent bits: the fractions of 10^-6 … 10^0 are the means of neighbouring points of linspace(0.1, 1, k)), and
 * its search against a linear scan for the nearest value.
 */
class DynamicQuant8Test {
    @Test
    void signedMapHasBothSignsOfEveryFractionThenZeroAndOne() {
        float[] map = DynamicQuant8.signedMap();
        assertEquals(256, map.length);
        for (int i = 1; i < 256; i++) {
            assertTrue(map[i] > map[i - 1], "ascending at " + i);
        }
        // decade 10^0 has 2^6 fractions: the means of linspace(0.1, 1, 65), the last (0.9859375 + 1) / 2
        assertEquals(-0.99296875f, map[0]);
        assertEquals(0.99296875f, map[254]);
        assertEquals(1f, map[255]);
        // decade 10^-6 has one fraction, the mean of 0.1 and 1; zero sits between the two signs
        assertEquals(0f, map[127]);
        assertEquals(5.5e-7f, map[128]);
        assertEquals(-5.5e-7f, map[126]);
        // decade 10^-5: the means of linspace(0.1, 1, 3) = 0.1, 0.55, 1
        assertEquals(3.25e-6f, map[129]);
        assertEquals(7.75e-6f, map[130]);
    }

    @Test
    void unsignedMapHasTwiceTheFractions() {
        float[] map = DynamicQuant8.unsignedMap();
        assertEquals(0f, map[0]);
        // decade 10^-6 has two fractions: the means of linspace(0.1, 1, 3)
        assertEquals(3.25e-7f, map[1]);
        assertEquals(7.75e-7f, map[2]);
        // decade 10^0 has 2^7: the means of linspace(0.1, 1, 129), the last (1 - 0.9 / 128 + 1) / 2
        assertEquals(0.996484375f, map[254]);
        assertEquals(1f, map[255]);
        for (int i = 1; i < 256; i++) {
            assertTrue(map[i] > map[i - 1], "ascending at " + i);
        }
    }

    @Test
    void theSearchFindsTheNearestValue() {
        Random rnd = new Random(3);
        for (boolean signed : new boolean[] {true, false}) {
            float[] map = signed ? DynamicQuant8.signedMap() : DynamicQuant8.unsignedMap();
            for (int k = 0; k < 20_000; k++) {
                // uniform, and spread over the decades where the map is dense
                float x = (float) (k % 2 == 0 ? rnd.nextDouble() : Math.pow(10, -7 * rnd.nextDouble()));
                if (signed && rnd.nextBoolean()) {
                    x = -x;
                }
                int got = DynamicQuant8.nearest(map, x, signed);
                int best = 0;
                for (int c = 1; c < 256; c++) {
                    if (Math.abs(map[c] - x) < Math.abs(map[best] - x)) {
                        best = c;
                    }
                }
                assertEquals(Math.abs(map[best] - x), Math.abs(map[got] - x), "x = " + x + ": code " + got + " vs " + best);
            }
            assertEquals(255, DynamicQuant8.nearest(map, 1f, signed));
            assertEquals(signed ? 127 : 0, DynamicQuant8.nearest(map, 0f, signed));
        }
    }

    @Test
    void updateArgumentsAreCheckedByName() {
        Tensor p = Tensor.zeros(DType.F32, 300);
        Tensor codes = Tensor.zeros(DType.U8, 300);
        Tensor abs = Tensor.zeros(DType.F32, 2);
        Tensor map = Tensor.zeros(DType.F32, 256);
        DynamicQuant8.checkUpdate(p, p, codes, codes, abs, abs, map, map, 1);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> DynamicQuant8.checkUpdate(p, p, codes, codes, Tensor.zeros(DType.F32, 1), abs, map, map, 1));
        assertTrue(e.getMessage().contains("absmaxM must be a contiguous F32 [2]"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> DynamicQuant8.checkUpdate(p, p, p, codes, abs, abs, map, map, 1));
        assertTrue(e.getMessage().contains("m must be a contiguous U8"), e.getMessage());
    }
}
