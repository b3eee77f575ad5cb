package dev.loraid.bench.harness;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FmaPeakTest {
    /**
     * 2 threads x 8 lanes x 2 flop x 4.0 GHz = 128 GFLOP/s per FMA pipe: a measurement of 129.6 is one pipe's
     * worth (derived 128, the measurement counts), 204.8 is 1.6 FMAs a cycle, two pipes (derived 256 counts), and so
     * is 1.38 (a probe slowed by a busy sibling thread), while 2.1 stays two pipes.
     */
    @Test
    void derivedPeakCountsWholePipesAndReadsASlowedProbeAsTheNextOne() {
        FmaPeak.Peak peak = FmaPeak.derive(2 * 64.8, 4.0, 2, 8);
        assertEquals(1, peak.pipes());
        assertEquals(128.0, peak.derived(), 1e-9);
        assertEquals(129.6, peak.gflops(), 1e-9);

        FmaPeak.Peak two = FmaPeak.derive(0.8 * 256, 4.0, 2, 8);
        assertEquals(2, two.pipes());
        assertEquals(256.0, two.derived(), 1e-9);
        assertEquals(256.0, two.gflops(), 1e-9);

        assertEquals(2, FmaPeak.derive(1.38 * 128, 4.0, 2, 8).pipes());
        assertEquals(2, FmaPeak.derive(2.1 * 128, 4.0, 2, 8).pipes());
        assertEquals(1, FmaPeak.derive(1.1 * 128, 4.0, 2, 8).pipes());
    }

    @Test
    void neverFewerThanOnePipe() {
        FmaPeak.Peak slow = FmaPeak.derive(1.0, 3.0, 2, 16);
        assertEquals(1, slow.pipes());
        assertEquals(192.0, slow.derived(), 1e-9);
    }

    /** A dependent shift-add chain of two cycles a step: any real core reads between 0.5 and 7 GHz. */
    @Test
    void clockIsPlausible() {
        double ghz = CoreClock.gigahertz(3);
        assertTrue(ghz > 0.5 && ghz < 7, ghz + " GHz");
        double allCores = CoreClock.allCoreGigahertz(3);
        assertTrue(allCores > 0.5 && allCores < 7, allCores + " GHz on all cores");
    }
}
