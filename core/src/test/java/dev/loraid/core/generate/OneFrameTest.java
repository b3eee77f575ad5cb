package dev.loraid.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.LoraidException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Upstream's --one_frame_inference strings (parse_one_frame_inference_args): positions, the generated frame, refusals. */
class OneFrameTest {
    @Test
    void parsesUpstreamsExamples() {
        OneFrame plain = OneFrame.parse("control_index=0,target_index=1");
        assertArrayEquals(new int[] {0, 1}, plain.framePositions());
        assertEquals(1, plain.targetFrame());
        OneFrame middle = OneFrame.parse("target_index=1, control_index=2;0, no_2x");
        assertEquals(List.of(2, 0), middle.controlIndices());
        assertArrayEquals(new int[] {0, 1, 2}, middle.framePositions());
        assertEquals(1, middle.targetFrame());
        assertEquals("target_index=1,control_index=2;0", middle.toString());
        OneFrame before = OneFrame.parse("target_index=3,control_index=5");
        assertEquals(0, before.targetFrame(), "the generated frame sorts before a later control");
        OneFrame none = OneFrame.parse("target_index=4");
        assertArrayEquals(new int[] {4}, none.framePositions());
    }

    @Test
    void refusesWhatUpstreamWouldMisread() {
        for (String[] c : new String[][] {
            {"target_index=0,control_index=0", "also a control_index"},
            {"target_index=2,control_index=0;0", "repeats a position"},
            {"target_index=x", "not an integer index"},
            {"target=1", "unknown option 'target=1'"},
            {"target_index=1,control_index=-1", "index -1 is outside RoPE's frame positions 0..1023"},
        }) {
            LoraidException e = assertThrows(LoraidException.class, () -> OneFrame.parse(c[0]));
            assertTrue(e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
        }
    }
}
