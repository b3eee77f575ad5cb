package dev.loraid.tensor;

/**
 * Per-device allocator behind a {@link MemoryScope}: hands out storage for the scope's lifetime and takes it
 * all back at once when the scope closes, reusing the memory for the next scope (so a training loop's native
 * memory stays flat).
 */
public interface ScopeAllocator {
    Storage allocate(long bytes);

    /**
     * Gives back one allocation of {@code storage} before the reset, if this allocator made it since the last reset
     * and its allocation serial is at least {@code allocatedSince}; its tensors must no longer be used.
     *
     * @return whether the memory was given back (an allocator that cannot free single allocations never does)
     */
    default boolean release(Storage storage, long allocatedSince) {
        return false;
    }

    /** Whether this allocator handed out {@code storage} since the last reset, with a serial of at least {@code mark}. */
    default boolean allocatedSince(Storage storage, long mark) {
        return false;
    }

    /** Returns every allocation made since the last reset to the pool; their storages must no longer be used. */
    void reset();

    /** Bytes handed out since the last reset. */
    long bytesInUse();

    /** Bytes held from the system (in use or pooled). */
    long bytesReserved();
}
