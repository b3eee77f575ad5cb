package dev.loraid.tensor.cuda;

import java.lang.ref.Cleaner;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Caching device allocator: freed blocks go to size-bucketed free lists and are handed out again without
 * {@code cuMemAlloc}, so a training loop's steady state makes no driver allocations. Sizes round up to 512 B
 * below 1 MiB and to 2 MiB above, so that a step's varying shapes fall into few buckets; a large request may take
 * a cached block up to 1/8 larger (best fit). Frees are stream-ordered: every user of a block enqueues on the one
 * stream of the {@link CudaContext}, so a block freed on the host may be reused by later work at once, with no
 * synchronisation. When {@code cuMemAlloc} fails, every cached block is released and the allocation retried.
 *
 * <p>Thread-safe: blocks of unreachable tensors come back from the {@link Cleaner} thread.
 */
final class CudaAllocator {
    static final long SMALL_LIMIT = 1L << 20;
    static final long SMALL_ROUND = 512;
    static final long LARGE_ROUND = 2L << 20;

    /** A device allocation; reachable as long as any storage over it. */
    static final class Block {
        final long ptr;
        final long size;

        Block(long ptr, long size) {
            this.ptr = ptr;
            this.size = size;
        }
    }

    /** The raw device memory source (cuMemAlloc/cuMemFree; replaceable in tests). */
    interface Source {
        long alloc(long bytes);

        void free(long ptr);
    }

    private static final Cleaner CLEANER = Cleaner.create();

    private final Source source;
    private final Map<Long, ArrayDeque<Long>> small = new HashMap<>();
    private final TreeMap<Long, ArrayDeque<Long>> large = new TreeMap<>();
    private long reserved;
    private long peakReserved;
    private long cached;
    private long driverAllocations;

    CudaAllocator(Source source) {
        this.source = source;
    }

    static long roundUp(long bytes) {
        long b = Math.max(bytes, 1);
        long r = b <= SMALL_LIMIT ? SMALL_ROUND : LARGE_ROUND;
        return (b + r - 1) / r * r;
    }

    /** A block of at least {@code bytes}, returned to the cache when {@code owner} becomes unreachable. */
    Block allocate(long bytes, Object owner) {
        Block b = take(bytes);
        CLEANER.register(owner, () -> release(b.ptr, b.size));
        return b;
    }

    /**
     * A block the caller returns explicitly with {@link #release}. When the device is full, cached blocks go back to the
     * driver first; if that is not enough, the JVM is asked to collect, since the blocks of unreachable tensors (a model
     * just moved to the host, training.md §6.5) come back only through the {@link Cleaner} — the same retry as
     * java.nio's direct-memory reservation, with waits of 1, 2, … 256 ms, outside the lock the Cleaner needs.
     */
    Block take(long bytes) {
        CudaException full;
        try {
            return takeOrThrow(bytes);
        } catch (CudaException e) {
            full = e;
        }
        for (long wait = 1; wait <= 256; wait *= 2) {
            System.gc();
            try {
                Thread.sleep(wait);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                break;
            }
            try {
                return takeOrThrow(bytes);
            } catch (CudaException e) {
                full = e;
            }
        }
        throw full;
    }

    private synchronized Block takeOrThrow(long bytes) {
        long size = roundUp(bytes);
        Block b = size <= SMALL_LIMIT ? poll(small.get(size), size) : pollLarge(size);
        if (b != null) {
            cached -= b.size;
            return b;
        }
        long p;
        try {
            p = source.alloc(size);
        } catch (CudaException e) {
            emptyCache();
            p = source.alloc(size);
        }
        reserved += size;
        peakReserved = Math.max(peakReserved, reserved);
        driverAllocations++;
        return new Block(p, size);
    }

    private static Block poll(ArrayDeque<Long> q, long size) {
        Long p = q == null ? null : q.poll();
        return p == null ? null : new Block(p, size);
    }

    /** Best fit among cached large blocks no more than 1/8 larger than asked. */
    private Block pollLarge(long size) {
        for (Map.Entry<Long, ArrayDeque<Long>> e = large.ceilingEntry(size); e != null && e.getKey() <= size + size / 8;
             e = large.higherEntry(e.getKey())) {
            Block b = poll(e.getValue(), e.getKey());
            if (b != null) {
                return b;
            }
        }
        return null;
    }

    synchronized void release(long ptr, long size) {
        (size <= SMALL_LIMIT ? small : large).computeIfAbsent(size, k -> new ArrayDeque<>()).push(ptr);
        cached += size;
    }

    /** Returns every cached block to the driver. */
    synchronized void emptyCache() {
        for (Map<Long, ArrayDeque<Long>> m : java.util.List.of(small, large)) {
            for (Map.Entry<Long, ArrayDeque<Long>> e : m.entrySet()) {
                for (Long p : e.getValue()) {
                    source.free(p);
                    reserved -= e.getKey();
                }
            }
            m.clear();
        }
        cached = 0;
    }

    /** Bytes held from the driver, in use or cached. */
    synchronized long bytesReserved() {
        return reserved;
    }

    /** The most bytes ever held from the driver at once: the device memory a run needed (its caching included). */
    synchronized long peakBytesReserved() {
        return peakReserved;
    }

    /** Bytes sitting in the free lists. */
    synchronized long bytesCached() {
        return cached;
    }

    /** How many times the driver was asked for memory: flat in a steady-state loop. */
    synchronized long driverAllocations() {
        return driverAllocations;
    }
}
