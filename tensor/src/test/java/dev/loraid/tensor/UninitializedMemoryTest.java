package dev.loraid.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class UninitializedMemoryTest {
    @Test
    void alignedWritableAndBoundToTheArena() {
        MemorySegment kept;
        try (Arena arena = Arena.ofShared()) {
            for (long bytes : new long[] {0, 1, 63, 64, 65, 3 * 4096 + 12}) {
                MemorySegment s = UninitializedMemory.allocate(arena, bytes, 64);
                assertEquals(bytes, s.byteSize());
                assertEquals(0, s.address() % 64, "address of a " + bytes + "-byte block");
                for (long i = 0; i + 4 <= bytes; i += 4) {
                    s.set(ValueLayout.JAVA_INT_UNALIGNED, i, (int) (i * 31 + bytes));
                }
                for (long i = 0; i + 4 <= bytes; i += 4) {
                    assertEquals((int) (i * 31 + bytes), s.get(ValueLayout.JAVA_INT_UNALIGNED, i));
                }
            }
            kept = UninitializedMemory.allocate(arena, 16, 16);
        }
        assertFalse(kept.scope().isAlive());
        assertThrows(IllegalStateException.class, () -> kept.get(ValueLayout.JAVA_INT, 0));
    }

    @Test
    void badArgumentsAreRefusedWithTheirValues() {
        try (Arena arena = Arena.ofConfined()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> UninitializedMemory.allocate(arena, 10, 48));
            assertEquals("allocate 10 bytes aligned to 48: the size must be ≥ 0 and the alignment a power of two",
                e.getMessage());
        }
    }
}
