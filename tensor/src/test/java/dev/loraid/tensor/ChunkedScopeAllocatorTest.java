package dev.loraid.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link ChunkedScopeAllocator#release}: a released span is reused, joins its neighbours, moves the bump pointer back
 * when it ends there; older or stale storages are left alone; and over a random run of allocations and releases no two
 * live allocations ever overlap, with the bytes in use equal to the sum of the live ones.
 */
class ChunkedScopeAllocatorTest {
    private static final long CHUNK = 4096;
    private static final long ALIGN = 64;

    /** Host chunks of 4 KiB, counted. */
    private static final class Host extends ChunkedScopeAllocator {
        int chunks;

        Host() {
            super(Device.CPU, CHUNK, ALIGN);
        }

        @Override
        protected MemorySegment newChunk(long bytes) {
            chunks++;
            return Arena.ofAuto().allocate(bytes, ALIGN);
        }
    }

    private static long address(Storage s) {
        return s.segment().address();
    }

    @Test
    void aReleasedSpanIsTakenByTheNextAllocationThatFits() {
        Host a = new Host();
        long mark = ChunkedScopeAllocator.nextSerial();
        Storage first = a.allocate(1000);
        Storage second = a.allocate(1000);
        a.allocate(64);
        assertEquals(1024 + 1024 + 64, a.bytesInUse(), "aligned sizes");
        assertTrue(a.release(first, mark));
        assertEquals(1024 + 64, a.bytesInUse());
        Storage again = a.allocate(900);
        assertEquals(address(first), address(again), "the released span is reused");
        assertTrue(a.release(second, mark));
        assertFalse(a.release(second, mark), "a second release does nothing");
        assertEquals(960 + 64, a.bytesInUse(), "900 bytes take an aligned 960");
    }

    @Test
    void neighboursJoinAndTheBumpPointerMovesBack() {
        Host a = new Host();
        long mark = ChunkedScopeAllocator.nextSerial();
        Storage x = a.allocate(512);
        Storage y = a.allocate(512);
        Storage z = a.allocate(512);
        assertTrue(a.release(x, mark));
        assertTrue(a.release(y, mark));
        Storage joined = a.allocate(1024);
        assertEquals(address(x), address(joined), "x and y joined into one span of 1024 bytes");
        assertTrue(a.release(z, mark));
        // z ended at the bump pointer: the pointer is back at z's start, so z's offset comes next
        Storage next = a.allocate(2048);
        assertEquals(address(z), address(next));
        assertEquals(1, a.chunks);
    }

    @Test
    void theTailOfALeftChunkIsUsedLater() {
        Host a = new Host();
        Storage big = a.allocate(3072);
        a.allocate(2048); // does not fit behind big: a second chunk, the first's last 1024 bytes left behind
        assertEquals(2, a.chunks);
        Storage small = a.allocate(1024);
        assertEquals(address(big) + 3072, address(small), "the first chunk's tail");
        assertEquals(2, a.chunks);
    }

    @Test
    void olderAndStaleStoragesAreLeftAlone() {
        Host a = new Host();
        Storage old = a.allocate(256);
        long mark = ChunkedScopeAllocator.nextSerial();
        assertFalse(a.release(old, mark), "allocated before the mark");
        assertEquals(256, a.bytesInUse());
        a.reset();
        Storage fresh = a.allocate(256);
        assertEquals(address(old), address(fresh));
        assertFalse(a.release(old, 0), "a storage of before the reset is not this allocator's any more");
        assertEquals(256, a.bytesInUse());
        assertFalse(a.release(new Storage(Device.CPU, fresh.segment(), a), 0), "only the storage handed out counts");
        assertTrue(a.release(fresh, 0));
    }

    @Test
    void randomAllocationsAndReleasesNeverOverlap() {
        SplittableRandom rnd = new SplittableRandom(5);
        Host a = new Host();
        for (int round = 0; round < 3; round++) {
            long mark = ChunkedScopeAllocator.nextSerial();
            List<Storage> live = new ArrayList<>();
            for (int op = 0; op < 3000; op++) {
                if (!live.isEmpty() && rnd.nextInt(100) < 45) {
                    Storage s = live.remove(rnd.nextInt(live.size()));
                    assertTrue(a.release(s, mark));
                } else {
                    long bytes = rnd.nextInt(100) < 5 ? 4096 + rnd.nextInt(8192) : 1 + rnd.nextInt(1500);
                    Storage s = a.allocate(bytes);
                    assertEquals(bytes, s.byteSize());
                    assertEquals(0, address(s) % ALIGN);
                    live.add(s);
                }
                if (op % 100 == 0) {
                    check(a, live);
                }
            }
            check(a, live);
            a.reset();
            assertEquals(0, a.bytesInUse());
        }
    }

    /** No two live allocations (their aligned spans) overlap; the bytes in use are their aligned sizes summed. */
    private static void check(Host a, List<Storage> live) {
        long sum = 0;
        List<long[]> spans = new ArrayList<>();
        for (Storage s : live) {
            long size = Math.max(ALIGN, (s.byteSize() + ALIGN - 1) & -ALIGN);
            spans.add(new long[] {address(s), address(s) + size});
            sum += size;
        }
        spans.sort((p, q) -> Long.compare(p[0], q[0]));
        for (int i = 1; i < spans.size(); i++) {
            if (spans.get(i)[0] < spans.get(i - 1)[1]) {
                fail("allocations overlap: [" + spans.get(i - 1)[0] + ", " + spans.get(i - 1)[1] + ") and ["
                        + spans.get(i)[0] + ", " + spans.get(i)[1] + ")");
            }
        }
        assertEquals(sum, a.bytesInUse());
    }
}
