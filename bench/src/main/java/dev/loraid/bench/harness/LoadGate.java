package dev.loraid.bench.harness;

import java.util.Optional;

/**
 * Waits for a quiet window before a timed run: a {@code windowMillis} stretch in which other processes used at
 * most {@code maxOthersCpus} CPUs. Each timed figure (warm-up plus runs) may spend at most
 * {@code maxWaitMillis} waiting in all, so that a benchmark on a busy machine still ends in a minute or two;
 * runs after that go ahead at once, and the log says how loaded they were. Off where /proc is unavailable.
 */
public final class LoadGate {
    private final double maxOthersCpus;
    private final long windowMillis;
    private final long maxWaitMillis;
    private final boolean enabled;

    public LoadGate(double maxOthersCpus, long windowMillis, long maxWaitMillis) {
        this.maxOthersCpus = maxOthersCpus;
        this.windowMillis = windowMillis;
        this.maxWaitMillis = maxWaitMillis;
        this.enabled = CpuLoad.sample().isPresent();
    }

    /**
     * The gate of the project's notes: 300 ms windows with others under 5% of a CPU; waits at most
     * {@code -Dloraid.bench.maxWaitMs} (default 8 s) per timed figure.
     */
    public static LoadGate forThisMachine() {
        return new LoadGate(0.05, 300, Long.getLong("loraid.bench.maxWaitMs", 8_000));
    }

    /** The waiting budget of one timed figure. */
    public long maxWaitMillis() {
        return maxWaitMillis;
    }

    public boolean enabled() {
        return enabled;
    }

    /** The most CPUs others may use during a run for it to count as clean. */
    public double maxOthersCpus() {
        return maxOthersCpus;
    }

    /** What waiting found: how long it took and whether the last window was quiet. */
    public record Wait(long millis, boolean quiet, double othersCpus) {
    }

    /** Waits for a quiet window, at most the whole budget of one figure. */
    public Wait awaitQuiet() {
        return awaitQuiet(maxWaitMillis);
    }

    /** Waits for a quiet window, at most {@code budgetMillis} (rounded up to one window). */
    public Wait awaitQuiet(long budgetMillis) {
        if (!enabled || budgetMillis <= 0) {
            return new Wait(0, true, 0);
        }
        long start = System.nanoTime();
        double others;
        do {
            Optional<CpuLoad> a = CpuLoad.sample();
            sleep(windowMillis);
            Optional<CpuLoad> b = CpuLoad.sample();
            others = a.isPresent() && b.isPresent() ? a.get().othersCpus(b.get()) : 0;
            if (others <= maxOthersCpus) {
                return new Wait((System.nanoTime() - start) / 1_000_000, true, others);
            }
        } while ((System.nanoTime() - start) / 1_000_000 < budgetMillis);
        return new Wait((System.nanoTime() - start) / 1_000_000, false, others);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a quiet window", e);
        }
    }
}
