package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Device;
import dev.loraid.tensor.ScopeAllocator;
import dev.loraid.tensor.Storage;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Bump allocation over large off-heap chunks. {@link #reset()} rewinds to the first chunk, so a training loop
 * whose steps allocate the same sizes reuses the same memory every step: the high-water mark stays flat.
 * Chunks come from a shared arena (kernels touch them from worker threads) and live as long as the allocator.
 */
final class CpuScopeAllocator implements ScopeAllocator {
    private static final long CHUNK = 64L << 20;
    private static final long ALIGN = 64;

    private final List<MemorySegment> chunks = new ArrayList<>();
    private int current;
    private long used;
    private long inUse;
    private long reserved;

    @Override
    public Storage allocate(long bytes) {
        long size = Math.max(ALIGN, (bytes + ALIGN - 1) & -ALIGN);
        while (current < chunks.size() && used + size > chunks.get(current).byteSize()) {
            current++;
            used = 0;
        }
        if (current == chunks.size()) {
            MemorySegment chunk = Arena.ofAuto().allocate(Math.max(CHUNK, size), ALIGN);
            chunks.add(chunk);
            reserved += chunk.byteSize();
            used = 0;
        }
        MemorySegment seg = chunks.get(current).asSlice(used, bytes);
        used += size;
        inUse += size;
        return new Storage(Device.CPU, seg, this);
    }

    @Override
    public void reset() {
        current = 0;
        used = 0;
        inUse = 0;
    }

    @Override
    public long bytesInUse() {
        return inUse;
    }

    @Override
    public long bytesReserved() {
        return reserved;
    }
}
