package dev.loraid.tensor.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** -Dloraid.cuda.memory_limit: a big fake device behaves like a small one, through the allocator's usual recovery. */
class CappedMemorySourceTest {
    @Test
    void sizesParseLikeXmx() {
        assertEquals(24L << 30, CappedMemorySource.parse("24g"));
        assertEquals(512L << 20, CappedMemorySource.parse(" 512M "));
        assertEquals(1L << 40, CappedMemorySource.parse("1t"));
        assertEquals(1000, CappedMemorySource.parse("1000"));
        for (String bad : new String[] {"", "g", "-1g", "0", "24gb", "1.5g", "99999999999t"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CappedMemorySource.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("-Dloraid.cuda.memory_limit=" + bad + ": expected a positive size"), e.getMessage());
        }
    }

    @Test
    void theCapFailsLikeAFullCardAndTheAllocatorRecoversAsOnOne() {
        CudaAllocatorTest.FakeSource card = new CudaAllocatorTest.FakeSource(80L << 30);    // an "80 GB" device
        CudaAllocator a = new CudaAllocator(new CappedMemorySource(card, 24L << 30, "24g"));
        CudaAllocator.Block w = a.take(20L << 30);
        CudaException full = assertThrows(CudaException.class, () -> a.take(6L << 30));
        assertTrue(full.getMessage().contains("CUDA_ERROR_OUT_OF_MEMORY") && full.getMessage().contains("over "
                + "-Dloraid.cuda.memory_limit=24g (21474836480 bytes held)"), full.getMessage());
        a.release(w.ptr, w.size);                                     // cached: still held from the "driver"
        CudaAllocator.Block x = a.take(22L << 30);                     // fits once the cache is given back
        assertEquals(22L << 30, x.size);
        assertEquals(22L << 30, card.live, "the cached 20 GiB went back before the 22 GiB were taken");
    }

    @Test
    void withoutThePropertyTheDriverIsUsedAsIs() {
        CudaAllocatorTest.FakeSource card = new CudaAllocatorTest.FakeSource(1L << 30);
        assertSame(card, CappedMemorySource.fromProperty(card));
    }
}
