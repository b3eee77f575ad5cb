package dev.loraid.bench.harness;

import java.util.Optional;

/**
 * Waits for a quiet window before a timed run: a {@code windowMillis} stretch in which other processes used at
 * most {@code maxOthersCpus} CPUs, giving up after {@code maxWaitMillis} (the run then goes ahead and is logged
 * as loaded). Off where /proc is unavailable.
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
     * {@code -Dloraid.bench.maxWaitMs} (default 20 s) per run.
     */
    public static LoadGate forThisMachine() {
        return new LoadGate(0.05, 300, Long.getLong("loraid.bench.maxWaitMs", 20_000));
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

    public Wait awaitQuiet() {
        if (!enabled) {
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
        } while ((System.nanoTime() - start) / 1_000_000 < maxWaitMillis);
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
