package dev.loraid.bench.harness;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class CpuLoadTest {
    private static final String SELF_PREFIX = "4242 (java (bench) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 ";

    private static String procStat(long user, long system, long idle) {
        return "cpu  " + user + " 0 " + system + " " + idle + " 7 0 3 0 0 0\n"
            + "cpu0 1 0 1 1 0 0 0 0 0 0\ncpu1 1 0 1 1 0 0 0 0 0 0\nintr 12345\n";
    }

    @Test
    void parsesAggregateLineAndSelfTimeAfterTheCommandName() {
        CpuLoad s = CpuLoad.parse(procStat(1000, 200, 5000), SELF_PREFIX + "150 50 9 9 20 0 40 0");
        assertEquals(2, s.cpus());
        assertEquals(1000 + 200 + 5000 + 7 + 3, s.totalTicks());
        assertEquals(1000 + 200 + 3, s.busyTicks());
        assertEquals(200, s.selfTicks());
    }

    @Test
    void othersAreBusyTimeMinusOurOwnPerCpuOfWallTime() {
        CpuLoad a = CpuLoad.parse(procStat(1000, 200, 5000), SELF_PREFIX + "100 0 0 0");
        // 60 ticks of wall time on 2 CPUs (120 CPU-ticks): we used 70, others 20, idle 30
        CpuLoad b = CpuLoad.parse(procStat(1000 + 80, 200 + 10, 5000 + 30), SELF_PREFIX + "160 10 0 0");
        assertEquals(60, a.ticksPerCpu(b), 1e-12);
        assertEquals(20 / 60.0, a.othersCpus(b), 1e-12);
        // the same sample twice: no time passed, no load
        assertEquals(0, a.othersCpus(a));
    }
}
