package dev.loraid.tensor.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The CPU kernels' thread pool: one worker per core ({@code -Dloraid.threads=N} overrides), shared by every
 * kernel so that two thread pools never fight over the same cores.
 */
public final class Parallel {
    private static final int THREADS = Integer.getInteger("loraid.threads", Runtime.getRuntime().availableProcessors());
    private static final ForkJoinPool POOL = new ForkJoinPool(Math.max(1, THREADS));

    private Parallel() {
    }

    public static int threads() {
        return THREADS;
    }

    /**
     * Runs {@code task.accept(i)} for i in [0, tasks), spread dynamically over the pool's threads; the calling
     * thread takes part. Returns when all have finished; the first exception thrown by a task is rethrown.
     */
    public static void forEach(int tasks, IntConsumer task) {
        if (tasks <= 0) {
            return;
        }
        int workers = Math.min(THREADS, tasks);
        if (workers <= 1 || ForkJoinTask.inForkJoinPool()) {
            for (int i = 0; i < tasks; i++) {
                task.accept(i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Runnable drain = () -> {
            for (int i; (i = next.getAndIncrement()) < tasks; ) {
                task.accept(i);
            }
        };
        ForkJoinTask<?>[] helpers = new ForkJoinTask<?>[workers - 1];
        for (int w = 0; w < helpers.length; w++) {
            helpers[w] = POOL.submit(drain);
        }
        Throwable failure = null;
        try {
            drain.run();
        } catch (Throwable t) {
            failure = t;
        }
        for (ForkJoinTask<?> h : helpers) {
            try {
                h.join();
            } catch (Throwable t) {
                if (failure == null) {
                    failure = t;
                }
            }
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        }
        if (failure instanceof Error err) {
            throw err;
        }
    }

    /** Splits [0, n) into about {@code threads() * chunksPerThread} contiguous ranges and runs them in parallel. */
    public static void forRange(long n, int chunksPerThread, RangeTask task) {
        if (n <= 0) {
            return;
        }
        int chunks = (int) Math.min(n, (long) THREADS * Math.max(1, chunksPerThread));
        forEach(chunks, c -> task.run(n * c / chunks, n * (c + 1) / chunks));
    }

    @FunctionalInterface
    public interface RangeTask {
        void run(long from, long to);
    }
}
