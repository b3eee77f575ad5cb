package dev.loraid.tensor;

/**
 * Per-device allocator behind a {@link MemoryScope}: hands out storage for the scope's lifetime and takes it
 * all back at once when the scope closes, reusing the memory for the next scope (so a training loop's native
 * memory stays flat).
 */
public interface ScopeAllocator {
    Storage allocate(long bytes);

    /** Returns every allocation made since the last reset to the pool; their storages must no longer be used. */
    void reset();

    /** Bytes handed out since the last reset. */
    long bytesInUse();

    /** Bytes held from the system (in use or pooled). */
    long bytesReserved();
}
