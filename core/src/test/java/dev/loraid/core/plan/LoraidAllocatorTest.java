package dev.loraid.core.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.LoraidException;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Spec loraid.md §1, test cases T-01..T-07. */
class LoraidAllocatorTest {

    @Test
    void t01_slice_basic() {
        LoraidSlice s = LoraidAllocator.slice(2, 12, 40);
        assertEquals(12, s.start());
        assertEquals(23, s.end());
        List<String> p = s.includePatterns();
        assertEquals(36, p.size());
        assertEquals("blocks\\.12\\.self_attn\\.", p.get(0));
        assertEquals("blocks\\.12\\.cross_attn\\.", p.get(1));
        assertEquals("blocks\\.23\\.ffn\\.", p.get(35));
        assertEquals(List.of(), s.excludePatterns());
        // REQ-ALLOC-4 AC: n=2, P=3 → 9 patterns from block 3 to 5
        List<String> q = LoraidAllocator.slice(2, 3, 40).includePatterns();
        assertEquals(9, q.size());
        assertEquals("blocks\\.3\\.self_attn\\.", q.get(0));
        assertEquals("blocks\\.5\\.ffn\\.", q.get(8));
    }

    @Test
    void recorded_pattern_is_prefix_safe() {
        Pattern p = Pattern.compile(LoraidAllocator.slice(1, 2, 40).includePatterns().get(5)); // blocks\.1\.ffn\.
        assertEquals("blocks\\.1\\.ffn\\.", p.pattern());
        assertTrue(p.matcher("blocks.1.ffn.0").lookingAt());
        assertFalse(p.matcher("blocks.10.ffn.0").lookingAt());
        assertFalse(p.matcher("blocks.1.norm3").lookingAt());
        assertFalse(p.matcher("xblocks.1.ffn.0").lookingAt());
    }

    @Test
    void t02_slice_max_id() {
        assertEquals(3, LoraidAllocator.maxId(40, 12));
        assertEquals(10, LoraidAllocator.maxId(30, 3));
        assertEquals(40, LoraidAllocator.maxId(40, 1));
        assertEquals(2, LoraidAllocator.maxId(30, 12));
        assertEquals(13, LoraidAllocator.maxId(40, 3));
        LoraidSlice s = LoraidAllocator.slice(13, 3, 40);
        assertEquals(36, s.start());
        assertEquals(38, s.end());
    }

    @Test
    void t03_id_partial_rejected() {
        LoraidException e = assertThrows(LoraidException.class, () -> LoraidAllocator.slice(4, 12, 40));
        assertTrue(e.getMessage().contains("blocks 36–47"), e.getMessage());
        assertTrue(e.getMessage().contains("only blocks 36–39 exist"), e.getMessage());
        assertTrue(e.getMessage().contains("valid LORAIDs are 1–3"), e.getMessage());
    }

    @Test
    void t04_id_beyond_rejected() {
        LoraidException e = assertThrows(LoraidException.class, () -> LoraidAllocator.slice(20, 12, 40));
        assertTrue(e.getMessage().contains("blocks 228–239"), e.getMessage());
        assertTrue(e.getMessage().contains("valid LORAIDs are 1–3"), e.getMessage());
        assertFalse(e.getMessage().contains("only blocks"), e.getMessage());
    }

    @Test
    void t05_id_zero_negative() {
        for (int id : new int[] {0, -1}) {
            LoraidException e = assertThrows(LoraidException.class, () -> LoraidAllocator.slice(id, 12, 40));
            assertTrue(e.getMessage().contains("positive integer"), e.getMessage());
        }
    }

    @Test
    void t06_p_out_of_range() {
        for (int p : new int[] {0, 41}) {
            LoraidException e = assertThrows(LoraidException.class, () -> LoraidAllocator.slice(1, p, 40));
            assertTrue(e.getMessage().contains("between 1 and 40"), e.getMessage());
        }
    }

    @Test
    void t07_p_not_divisor_warning() {
        assertEquals(13, LoraidAllocator.slice(13, 3, 40).id());
        String w = LoraidAllocator.unusedBlocksWarning(40, 3).orElseThrow();
        assertTrue(w.contains("block 39"), w);
        assertTrue(LoraidAllocator.unusedBlocksWarning(30, 12).orElseThrow().contains("blocks 24–29"));
        assertTrue(LoraidAllocator.unusedBlocksWarning(40, 4).isEmpty());
    }
}
