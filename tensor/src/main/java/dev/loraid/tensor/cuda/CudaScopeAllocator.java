package dev.loraid.tensor.cuda;

import dev.loraid.tensor.ChunkedScopeAllocator;
import dev.loraid.tensor.Device;

import java.lang.foreign.MemorySegment;

/**
 * The step-scoped arena on device memory (design.md, "Memory"): 256 MiB chunks taken from the {@link CudaAllocator},
 * so a training step that allocates the same sizes every time reuses the same device memory with no driver call.
 * Resetting while kernels of the closed step are still queued is safe: the next step's work is enqueued behind them
 * on the same stream.
 */
final class CudaScopeAllocator extends ChunkedScopeAllocator {
    static final long CHUNK = 256L << 20;
    static final long ALIGN = 256;

    private final CudaAllocator pool;

    CudaScopeAllocator(Device device, CudaAllocator pool) {
        super(device, CHUNK, ALIGN);
        this.pool = pool;
    }

    @Override
    protected MemorySegment newChunk(long bytes) {
        CudaAllocator.Block chunk = pool.allocate(bytes, this);
        return MemorySegment.ofAddress(chunk.ptr).reinterpret(chunk.size);
    }
}
