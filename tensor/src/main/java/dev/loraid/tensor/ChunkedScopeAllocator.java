package dev.loraid.tensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Bump allocation over large chunks, the memory behind a {@link MemoryScope} on every device. {@link #reset()}
 * rewinds to the first chunk, so a training loop whose steps allocate the same sizes reuses the same memory every
 * step and its high-water mark stays flat. A backend supplies only where chunks come from.
 */
public abstract class ChunkedScopeAllocator implements ScopeAllocator {
    private final Device device;
    private final long chunkBytes;
    private final long align;
    private final List<MemorySegment> chunks = new ArrayList<>();
    private int current;
    private long used;
    private long inUse;
    private long reserved;

    /**
     * @param chunkBytes the usual chunk size (a larger request gets a chunk of its own size)
     * @param align      alignment of every allocation, a power of two
     */
    protected ChunkedScopeAllocator(Device device, long chunkBytes, long align) {
        this.device = device;
        this.chunkBytes = chunkBytes;
        this.align = align;
    }

    /**
     * A new chunk of {@code bytes} (a multiple of the alignment), aligned to it. For a GPU the segment only carries
     * the device address and size; slices of it are never dereferenced on the host.
     */
    protected abstract MemorySegment newChunk(long bytes);

    @Override
    public final Storage allocate(long bytes) {
        long size = Math.max(align, (bytes + align - 1) & -align);
        while (current < chunks.size() && used + size > chunks.get(current).byteSize()) {
            current++;
            used = 0;
        }
        if (current == chunks.size()) {
            MemorySegment chunk = newChunk(Math.max(chunkBytes, size));
            chunks.add(chunk);
            reserved += chunk.byteSize();
            used = 0;
        }
        MemorySegment seg = chunks.get(current).asSlice(used, bytes);
        used += size;
        inUse += size;
        return new Storage(device, seg, this);
    }

    @Override
    public final void reset() {
        current = 0;
        used = 0;
        inUse = 0;
    }

    @Override
    public final long bytesInUse() {
        return inUse;
    }

    @Override
    public final long bytesReserved() {
        return reserved;
    }
}
