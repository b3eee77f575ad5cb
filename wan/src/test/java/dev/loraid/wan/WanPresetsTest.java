package dev.loraid.wan;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WanPresetsTest {
    /** Exact totals of spec wan.md §6.1, counted there from the key table independently of this code. */
    @Test
    void parameterCountsMatchTheSpec() {
        assertEquals(1_418_996_800L, WanPresets.get("t2v-1.3B").config().parameterCount());
        assertEquals(14_288_491_584L, WanPresets.get("t2v-14B").config().parameterCount());
        assertEquals(14_288_491_584L, WanPresets.get("t2v-A14B").config().parameterCount());
        assertEquals(14_288_901_184L, WanPresets.get("i2v-A14B").config().parameterCount());
        assertEquals(16_394_878_784L, WanPresets.get("i2v-14B").config().parameterCount());
        assertEquals(16_395_536_704L, WanPresets.get("flf2v-14B").config().parameterCount());
        assertEquals(4_999_787_712L, WanPresets.get("ti2v-5B").config().parameterCount());
    }

    /** Key counts of spec §3.2. */
    @Test
    void keyCountsMatchTheSpec() {
        assertEquals(825, WanKeys.expectedShapes(WanPresets.get("t2v-1.3B").config()).size());
        assertEquals(1095, WanKeys.expectedShapes(WanPresets.get("t2v-A14B").config()).size());
        assertEquals(1303, WanKeys.expectedShapes(WanPresets.get("i2v-14B").config()).size());
        assertEquals(1304, WanKeys.expectedShapes(WanPresets.get("flf2v-14B").config()).size());
    }

    @Test
    void a14bExpertSwitchComparesTOver1000WithTheBoundary() {
        WanVariant t2v = WanPresets.get("t2v-A14B");
        assertTrue(t2v.hasExperts());
        assertEquals(WanVariant.HIGH_NOISE, t2v.expertFor(875));
        assertEquals(WanVariant.LOW_NOISE, t2v.expertFor(874.9));
        assertEquals(4.0, t2v.guidanceFor(999));
        assertEquals(3.0, t2v.guidanceFor(500));
        WanVariant i2v = WanPresets.get("i2v-a14b");
        assertEquals(WanVariant.HIGH_NOISE, i2v.expertFor(900));
        assertEquals(WanVariant.LOW_NOISE, i2v.expertFor(899));
        assertFalse(WanPresets.get("t2v-1.3B").hasExperts());
    }

    @Test
    void variantsDifferWhereTheSpecSaysTheyDo() {
        WanConfig i2vA14b = WanPresets.get("i2v-A14B").config();
        assertEquals(36, i2vA14b.inDim());
        assertFalse(i2vA14b.imageBranch(), "2.2 i2v has no CLIP branch (pitfall 12)");
        assertTrue(WanPresets.get("i2v-14B").config().imageBranch());
        assertEquals("ti2v", WanPresets.get("ti2v-5B").config().modelType());
        assertEquals(128, WanPresets.get("ti2v-5B").config().headDim());
        assertEquals(2, WanPresets.matching(WanPresets.get("t2v-14B").config()).size(), "t2v-14B and t2i-14B");
        assertThrows(IllegalArgumentException.class, () -> WanPresets.get("t2v-2B"));
    }
}
