package dev.loraid.tensor.cpu;

import dev.loraid.tensor.ChunkedScopeAllocator;
import dev.loraid.tensor.Device;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The step-scoped arena in host memory: 64 MiB off-heap chunks from a shared arena (kernels touch them from worker
 * threads), living as long as the allocator.
 */
final class CpuScopeAllocator extends ChunkedScopeAllocator {
    private static final long CHUNK = 64L << 20;
    private static final long ALIGN = 64;

    CpuScopeAllocator() {
        super(Device.CPU, CHUNK, ALIGN);
    }

    @Override
    protected MemorySegment newChunk(long bytes) {
        return Arena.ofAuto().allocate(bytes, ALIGN);
    }
}
