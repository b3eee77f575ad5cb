package dev.loraid.bench.harness;

import dev.loraid.tensor.cpu.Parallel;

import java.util.Arrays;

/**
 * The clock the cores run at while all of them are busy, measured rather than read: {@code /proc/cpuinfo} shows a
 * virtual machine's nominal figure, not the boost clock the kernels run at, and one busy core may boost higher than
 * all of them together. A chain of dependent integer operations of
 * known latency (a shift and an add per step, one cycle each on every x86 core) takes two cycles a step however
 * wide the core is, so steps per second give the clock.
 */
public final class CoreClock {
    private static final int STEPS = 50_000_000;

    private CoreClock() {
    }

    /**
     * GHz with every {@link Parallel} thread running chains at once: the slowest thread's fastest of {@code runs}
     * chains (a chain slowed by another process is longer; the slowest core bounds a kernel spread over all).
     */
    public static double allCoreGigahertz(int runs) {
        int threads = Parallel.threads();
        double[] perThread = new double[threads];
        Parallel.forEach(threads, t -> perThread[t] = gigahertz(runs));
        return Arrays.stream(perThread).min().orElseThrow();
    }

    /** GHz on the calling thread: the fastest of {@code runs} timed chains (a chain slowed by another process is longer). */
    public static double gigahertz(int runs) {
        long sink = 0;
        double best = Double.MAX_VALUE;
        for (int r = 0; r < runs + 2; r++) { // the first two let C2 compile the loop
            long t0 = System.nanoTime();
            sink += chain(STEPS, r + 1);
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (r >= 2) {
                best = Math.min(best, seconds);
            }
        }
        if (sink == 42) {
            System.out.print(""); // keeps the chains live
        }
        return 2.0 * STEPS / best / 1e9;
    }

    /**
     * {@code steps} dependent steps of {@code x += x >>> 7}: the shift needs the last add and the add the shift, two
     * cycles a step (x86 cannot fuse a right shift into the add, as LEA fuses a left one).
     */
    static long chain(int steps, long seed) {
        long x = seed;
        for (int i = 0; i < steps; i++) {
            x += x >>> 7;
        }
        return x;
    }
}
