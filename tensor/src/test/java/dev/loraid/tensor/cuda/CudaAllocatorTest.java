package dev.loraid.tensor.cuda;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The caching allocator's bookkeeping, over a fake device memory source. */
class CudaAllocatorTest {
    /** Hands out increasing fake addresses; fails when over its capacity. */
    static final class FakeSource implements CudaAllocator.Source {
        final long capacity;
        long next = 1L << 32;
        long live;
        final Set<Long> freed = new HashSet<>();
        final List<Long> sizes = new ArrayList<>();
        final java.util.Map<Long, Long> sizeOf = new java.util.HashMap<>();

        FakeSource(long capacity) {
            this.capacity = capacity;
        }

        @Override
        public long alloc(long bytes) {
            if (live + bytes > capacity) {
                throw new CudaException("cuMemAlloc(" + bytes + " bytes) failed: CUDA_ERROR_OUT_OF_MEMORY (2)");
            }
            long p = next;
            next += bytes;
            live += bytes;
            sizes.add(bytes);
            sizeOf.put(p, bytes);
            return p;
        }

        @Override
        public void free(long ptr) {
            freed.add(ptr);
            live -= sizeOf.get(ptr);
        }
    }

    @Test
    void roundsSmallTo512AndLargeTo2MiB() {
        assertEquals(512, CudaAllocator.roundUp(1));
        assertEquals(1024, CudaAllocator.roundUp(513));
        assertEquals(1L << 20, CudaAllocator.roundUp(1L << 20));
        assertEquals(2L << 20, CudaAllocator.roundUp((1L << 20) + 1));
        assertEquals(4L << 20, CudaAllocator.roundUp((2L << 20) + 1));
    }

    @Test
    void steadyStateLoopMakesNoDriverAllocations() {
        FakeSource src = new FakeSource(1L << 40);
        CudaAllocator a = new CudaAllocator(src);
        long[] step = {100, 4096, 3L << 20, 700, 50L << 20};
        for (int iter = 0; iter < 5; iter++) {
            List<CudaAllocator.Block> live = new ArrayList<>();
            for (long s : step) {
                CudaAllocator.Block b = a.take(s);
                assertTrue(b.size >= s);
                live.add(b);
            }
            for (CudaAllocator.Block b : live) {
                a.release(b.ptr, b.size);
            }
        }
        assertEquals(step.length, a.driverAllocations(), "only the first step allocates from the driver");
        assertEquals(a.bytesReserved(), a.bytesCached());
    }

    @Test
    void largeRequestsReuseASlightlyBiggerBlockButNotAMuchBiggerOne() {
        CudaAllocator a = new CudaAllocator(new FakeSource(1L << 40));
        CudaAllocator.Block big = a.take(64L << 20);
        a.release(big.ptr, big.size);
        CudaAllocator.Block near = a.take(60L << 20);       // within 1/8: reuses the 64 MiB block
        assertEquals(big.ptr, near.ptr);
        assertEquals(64L << 20, near.size);
        a.release(near.ptr, near.size);
        CudaAllocator.Block small = a.take(8L << 20);       // 8x smaller: a new block
        assertTrue(small.ptr != big.ptr);
        assertEquals(2, a.driverAllocations());
    }

    @Test
    void outOfMemoryReleasesTheCacheAndRetries() {
        FakeSource src = new FakeSource(100L << 20);
        CudaAllocator a = new CudaAllocator(src);
        CudaAllocator.Block b1 = a.take(60L << 20);
        a.release(b1.ptr, b1.size);                           // cached, still held from the driver
        CudaAllocator.Block b2 = a.take(80L << 20);          // does not fit beside it: cache emptied, retried
        assertTrue(src.freed.contains(b1.ptr));
        assertEquals(80L << 20, b2.size);
        assertEquals(80L << 20, a.bytesReserved());
        assertEquals(0, a.bytesCached());
        assertEquals(80L << 20, a.peakBytesReserved(), "the 60 MiB block went back before the 80 MiB one was taken");
        a.release(b2.ptr, b2.size);
        a.take(80L << 20);                                   // served from the cache: no new peak
        assertEquals(80L << 20, a.peakBytesReserved());
    }

    @Test
    void blocksOfUnreachableOwnersComeBack() throws InterruptedException {
        CudaAllocator a = new CudaAllocator(new FakeSource(1L << 40));
        Object owner = new Object();
        CudaAllocator.Block b = a.allocate(1000, owner);
        owner = null;
        for (int i = 0; i < 200 && a.bytesCached() == 0; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertEquals(b.size, a.bytesCached(), "the Cleaner returned the block to the cache");
    }

    /** A block held only by an unreachable owner (a model moved off the device) is reclaimed when the device is full. */
    @Test
    void outOfMemoryCollectsBlocksOfUnreachableOwners() {
        FakeSource src = new FakeSource(100L << 20);
        CudaAllocator a = new CudaAllocator(src);
        long first = holdUnreachable(a);
        CudaAllocator.Block b = a.take(80L << 20);            // fits only once the Cleaner has returned the first block
        assertTrue(src.freed.contains(first), "the unreachable block went back to the driver");
        assertEquals(80L << 20, b.size);
        assertEquals(80L << 20, a.bytesReserved());
    }

    private static long holdUnreachable(CudaAllocator a) {
        return a.allocate(60L << 20, new Object()).ptr;
    }

    @Test
    void aRequestLargerThanTheDeviceStillFails() {
        CudaAllocator a = new CudaAllocator(new FakeSource(10L << 20));
        CudaException e = org.junit.jupiter.api.Assertions.assertThrows(CudaException.class, () -> a.take(20L << 20));
        assertTrue(e.getMessage().contains("CUDA_ERROR_OUT_OF_MEMORY"), e.getMessage());
    }
}
