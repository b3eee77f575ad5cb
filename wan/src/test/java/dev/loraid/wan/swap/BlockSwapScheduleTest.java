package dev.loraid.wan.swap;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The swap order simulated over whole steps for every model size 2..9 and every N: each block is resident when its
 * forward and its backward run, exactly R = n − N blocks are resident throughout, each pass moves N blocks, a step
 * ends where it started, and a forward without backward is undone by {@link BlockSwapSchedule#toStart}.
 */
class BlockSwapScheduleTest {
    @Test
    void everyBlockIsResidentWhenItRunsAndTheResidentCountStaysR() {
        for (int n = 2; n <= 9; n++) {
            for (int swapped = 1; swapped < n; swapped++) {
                BlockSwapSchedule s = new BlockSwapSchedule(n, swapped);
                String at = "n=" + n + " N=" + swapped;
                TreeSet<Integer> resident = new TreeSet<>(s.residentAtStart());
                assertEquals(n - swapped, resident.size(), at);
                for (int step = 0; step < 2; step++) {
                    int moves = 0;
                    for (int i = 0; i < n; i++) {
                        assertTrue(resident.contains(i), at + ": block " + i + " forward while resident " + resident);
                        moves += apply(s.afterForward(i).orElse(null), resident, at);
                    }
                    assertEquals(swapped, moves, at + ": moves in a forward pass");
                    assertEquals(lastBlocks(n, n - swapped), new ArrayList<>(resident), at + ": resident after forward");
                    moves = 0;
                    for (int i = n - 1; i >= 0; i--) {
                        assertTrue(resident.contains(i), at + ": block " + i + " backward while resident " + resident);
                        moves += apply(s.afterBackward(i).orElse(null), resident, at);
                    }
                    assertEquals(swapped, moves, at + ": moves in a backward pass");
                    assertEquals(s.residentAtStart(), new ArrayList<>(resident), at + ": a step ends where it started");
                }
                // a forward without backward (validation, sampling), then back to the start for the next step
                for (int i = 0; i < n; i++) {
                    apply(s.afterForward(i).orElse(null), resident, at);
                }
                for (BlockSwapSchedule.Swap m : s.toStart(new ArrayList<>(resident))) {
                    apply(m, resident, at);
                }
                assertEquals(s.residentAtStart(), new ArrayList<>(resident), at + ": toStart");
                assertEquals(List.of(), s.toStart(s.residentAtStart()), at + ": nothing to do at the start");
            }
        }
    }

    @Test
    void theFetchedBlockIsRAheadOfTheOneRunning() {
        BlockSwapSchedule s = new BlockSwapSchedule(40, 30); // Wan 14B with 30 blocks in host memory: 10 resident
        assertEquals(new BlockSwapSchedule.Swap(0, 10), s.afterForward(0).orElseThrow());
        assertEquals(new BlockSwapSchedule.Swap(29, 39), s.afterForward(29).orElseThrow());
        assertTrue(s.afterForward(30).isEmpty());
        assertEquals(new BlockSwapSchedule.Swap(39, 29), s.afterBackward(39).orElseThrow());
        assertEquals(new BlockSwapSchedule.Swap(10, 0), s.afterBackward(10).orElseThrow());
        assertTrue(s.afterBackward(9).isEmpty());
    }

    @Test
    void outOfRangeCountsAreRefusedNamingTheRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BlockSwapSchedule(40, 40));
        assertTrue(e.getMessage().contains("give 1..39"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BlockSwapSchedule(40, 0));
        assertThrows(IllegalArgumentException.class, () -> new BlockSwapSchedule(1, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> new BlockSwapSchedule(4, 2).afterForward(4));
    }

    /** Applies one move to the simulated resident set, checking it is legal; returns the number of moves (0 or 1). */
    private static int apply(BlockSwapSchedule.Swap m, TreeSet<Integer> resident, String at) {
        if (m == null) {
            return 0;
        }
        assertTrue(resident.remove(m.evict()), at + ": evicting " + m.evict() + " which is not resident " + resident);
        assertTrue(resident.add(m.fetch()), at + ": fetching " + m.fetch() + " which is already resident " + resident);
        return 1;
    }

    private static List<Integer> lastBlocks(int n, int r) {
        List<Integer> out = new ArrayList<>();
        for (int i = n - r; i < n; i++) {
            out.add(i);
        }
        return out;
    }
}
