package dev.loraid.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Host memory that is not zeroed, for buffers every element of which is written before it is read. FFM's
 * {@code Arena.allocate} always zeroes, a pass over the memory that was 6% of a VAE encode (its per-layer buffers
 * are all overwritten). Taken from the C library's {@code aligned_alloc} and given back with {@code free} when the
 * arena closes; where the C library has no {@code aligned_alloc}, the arena allocates (zeroed) as usual.
 */
public final class UninitializedMemory {
    private static final Optional<MethodHandle> ALIGNED_ALLOC;
    private static final MethodHandle FREE;

    static {
        Linker linker = Linker.nativeLinker();
        SymbolLookup libc = linker.defaultLookup();
        Optional<MemorySegment> alloc = libc.find("aligned_alloc");
        Optional<MemorySegment> free = libc.find("free");
        if (alloc.isPresent() && free.isPresent()) {
            ALIGNED_ALLOC = Optional.of(linker.downcallHandle(alloc.get(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG)));
            FREE = linker.downcallHandle(free.get(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
        } else {
            ALIGNED_ALLOC = Optional.empty();
            FREE = null;
        }
    }

    private UninitializedMemory() {
    }

    /**
     * {@code bytes} bytes aligned to {@code alignment} (a power of two), valid until {@code arena} closes, with
     * unspecified contents.
     */
    public static MemorySegment allocate(Arena arena, long bytes, long alignment) {
        if (bytes < 0 || alignment <= 0 || Long.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("allocate " + bytes + " bytes aligned to " + alignment
                + ": the size must be ≥ 0 and the alignment a power of two");
        }
        if (ALIGNED_ALLOC.isEmpty()) {
            return arena.allocate(bytes, alignment);
        }
        // aligned_alloc wants a size that is a multiple of the alignment
        long size = Math.max(alignment, (bytes + alignment - 1) / alignment * alignment);
        MemorySegment p;
        try {
            p = (MemorySegment) ALIGNED_ALLOC.get().invokeExact(alignment, size);
        } catch (Throwable t) {
            throw new IllegalStateException("aligned_alloc(" + alignment + ", " + size + ") failed", t);
        }
        if (p.equals(MemorySegment.NULL)) {
            throw new OutOfMemoryError("host memory: aligned_alloc of " + size + " bytes returned NULL");
        }
        return p.reinterpret(size, arena, UninitializedMemory::free).asSlice(0, bytes);
    }

    private static void free(MemorySegment p) {
        try {
            FREE.invokeExact(p);
        } catch (Throwable t) {
            throw new IllegalStateException("free failed", t);
        }
    }
}
