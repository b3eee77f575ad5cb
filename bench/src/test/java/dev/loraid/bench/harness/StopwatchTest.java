package dev.loraid.bench.harness;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The warm-up that goes on while the JIT compiles, against a fake compilation-time counter. */
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
}
