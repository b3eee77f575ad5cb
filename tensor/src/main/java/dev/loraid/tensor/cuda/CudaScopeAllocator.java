package dev.loraid.tensor.cuda;

import dev.loraid.tensor.Device;
import dev.loraid.tensor.ScopeAllocator;
import dev.loraid.tensor.Storage;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The step-scoped arena on device memory (design.md, "Memory"): bump allocation over large chunks taken from the
 * {@link CudaAllocator}; {@link #reset()} rewinds to the first chunk, so a training step that allocates the same
 * sizes every time reuses the same device memory with no driver call. Resetting while kernels of the closed step
 * are still queued is safe: the next step's work is enqueued behind them on the same stream.
 */
final class CudaScopeAllocator implements ScopeAllocator {
    static final long CHUNK = 256L << 20;
    static final long ALIGN = 256;

    private final Device device;
    private final CudaAllocator pool;
    private final List<CudaAllocator.Block> chunks = new ArrayList<>();
    private int current;
    private long used;
    private long inUse;
    private long reserved;

    CudaScopeAllocator(Device device, CudaAllocator pool) {
        this.device = device;
        this.pool = pool;
    }

    @Override
    public Storage allocate(long bytes) {
        long size = Math.max(ALIGN, (bytes + ALIGN - 1) & -ALIGN);
        while (current < chunks.size() && used + size > chunks.get(current).size) {
            current++;
            used = 0;
        }
        if (current == chunks.size()) {
            CudaAllocator.Block chunk = pool.allocate(Math.max(CHUNK, size), this);
            chunks.add(chunk);
            reserved += chunk.size;
            used = 0;
        }
        long ptr = chunks.get(current).ptr + used;
        used += size;
        inUse += size;
        return new Storage(device, MemorySegment.ofAddress(ptr).reinterpret(bytes), this);
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
