package dev.loraid.bench.harness;

import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The warm-up that goes on while the JIT compiles, against a fake compilation-time counter; alternating runs. */
class StopwatchTest {
    /** Work of about 5 ms, during whose first {@code compilingRuns} runs the fake JIT's total grows by 20 ms each. */
    private static Runnable work(AtomicInteger runs, AtomicLong jitMillis, int compilingRuns) {
        return () -> {
            if (runs.getAndIncrement() < compilingRuns) {
                jitMillis.addAndGet(20);
            }
            long end = System.nanoTime() + 5_000_000;
            while (System.nanoTime() < end) {
                Thread.onSpinWait();
            }
        };
    }

    @Test
    void warmUpGoesOnUntilTwoRunsInARowCompileNothing() {
        AtomicInteger runs = new AtomicInteger();
        AtomicLong jit = new AtomicLong();
        assertEquals(3, Stopwatch.warmUntilCompiled(work(runs, jit, 3), jit::get, 10_000_000_000L));
        assertEquals(5, runs.get(), "three compiling runs and two clean ones");
    }

    @Test
    void aJitThatNeverSettlesStopsAtTheTimeLimit() {
        AtomicInteger runs = new AtomicInteger();
        AtomicLong jit = new AtomicLong();
        long t0 = System.nanoTime();
        int extra = Stopwatch.warmUntilCompiled(work(runs, jit, Integer.MAX_VALUE), jit::get, 100_000_000L);
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertTrue(extra >= 2 && seconds < 5, extra + " runs in " + seconds + " s");
        assertEquals(extra, runs.get());
    }

    @Test
    void compiledCodeIsTimedAtOnce() {
        AtomicInteger runs = new AtomicInteger();
        AtomicLong jit = new AtomicLong();
        assertEquals(0, Stopwatch.warmUntilCompiled(work(runs, jit, 0), jit::get, 10_000_000_000L));
        assertEquals(2, runs.get());
    }

    /** Two workloads in alternation (A B, B A, ...): each pair's ratio, B's time over A's, then their median. */
    @Test
    void interleavedRunsAlternateAndCompareEachRunWithItsPartner() {
        List<String> order = new ArrayList<>();
        Runnable a = () -> {
            order.add("A");
            spin(1_000_000);
        };
        Runnable b = () -> {
            order.add("B");
            spin(3_000_000);
        };
        // no load gate (an unreachable limit of others' CPUs, no waiting), no warm-up beyond the JIT check
        Stopwatch watch = new Stopwatch(new LoadGate(Double.MAX_VALUE, 0, 0), new PrintStream(OutputStream.nullOutputStream()));
        Stopwatch.Interleaved r = watch.interleaved("a", a, "b", b, 0, 6);
        assertEquals(List.of("A", "B", "B", "A", "A", "B", "B", "A", "A", "B", "B", "A"),
            order.subList(order.size() - 12, order.size()));
        assertEquals(3, r.ratio(), 0.45, "median of B's time over A's in each pair");
        assertEquals(6, r.a().seconds().length);
        assertEquals(6, r.b().seconds().length);
    }

    private static void spin(double nanos) {
        long end = System.nanoTime() + (long) nanos;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }
}
