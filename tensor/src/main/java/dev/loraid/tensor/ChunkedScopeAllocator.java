package dev.loraid.tensor;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bump allocation over large chunks, the memory behind a {@link MemoryScope} on every device. {@link #reset()}
 * rewinds to the first chunk, so a training loop whose steps allocate the same sizes reuses the same memory every
 * step and its high-water mark stays flat. A backend supplies only where chunks come from.
 *
 * <p>An allocation that dies before its scope closes (a gradient the backward pass has used) can be given back with
 * {@link #release}: its span joins its neighbours among the released spans, the bump pointer moves back over a span
 * that ends at it, and later allocations take the smallest released span they fit in before the bump pointer moves
 * on. On a GPU this is safe for the same reason as {@link #reset()}: the kernels still reading the span were enqueued
 * before those of its next owner, on the same stream.
 */
public abstract class ChunkedScopeAllocator implements ScopeAllocator {
    /** Numbers every allocation of every allocator in order, for {@link #release}'s "allocated since". */
    private static final AtomicLong SERIALS = new AtomicLong();

    private final Device device;
    private final long chunkBytes;
    private final long align;
    private final List<MemorySegment> chunks = new ArrayList<>();
    /** Per chunk: released spans, offset to size, coalesced (no two touch). */
    private final List<TreeMap<Long, Long>> released = new ArrayList<>();
    /** The allocations handed out since the last reset, for {@link #release}. */
    private final Map<Storage, Span> live = new IdentityHashMap<>();
    private int current;
    private long used;
    private long inUse;
    private long reserved;

    private record Span(int chunk, long offset, long size, long serial) {
    }

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

    /** The serial the next allocation (of any allocator) will get: what {@link #release} compares with. */
    public static long nextSerial() {
        return SERIALS.get();
    }

    @Override
    public final Storage allocate(long bytes) {
        long size = Math.max(align, (bytes + align - 1) & -align);
        int chunk = -1;
        long offset = -1;
        long best = Long.MAX_VALUE;
        for (int c = 0; c < released.size() && best != size; c++) {
            for (Map.Entry<Long, Long> e : released.get(c).entrySet()) {
                if (e.getValue() >= size && e.getValue() < best) {
                    chunk = c;
                    offset = e.getKey();
                    best = e.getValue();
                    if (best == size) {
                        break;
                    }
                }
            }
        }
        if (chunk >= 0) {
            released.get(chunk).remove(offset);
            if (best > size) {
                released.get(chunk).put(offset + size, best - size);
            }
        } else {
            while (current < chunks.size() && used + size > chunks.get(current).byteSize()) {
                // the rest of a chunk left behind stays usable through the released spans
                long tail = chunks.get(current).byteSize() - used;
                if (tail > 0) {
                    giveBack(current, used, tail);
                }
                current++;
                used = 0;
            }
            if (current == chunks.size()) {
                MemorySegment fresh = newChunk(Math.max(chunkBytes, size));
                chunks.add(fresh);
                released.add(new TreeMap<>());
                reserved += fresh.byteSize();
                used = 0;
            }
            chunk = current;
            offset = used;
            used += size;
        }
        inUse += size;
        Storage st = new Storage(device, chunks.get(chunk).asSlice(offset, bytes), this);
        live.put(st, new Span(chunk, offset, size, SERIALS.getAndIncrement()));
        return st;
    }

    /**
     * Gives back {@code storage} before the scope closes when this allocator handed it out since the last reset,
     * with a serial of at least {@code allocatedSince} ({@link #nextSerial()} taken earlier); otherwise does nothing.
     * The caller guarantees that no tensor over it is used again.
     *
     * @return whether the memory was given back
     */
    @Override
    public final boolean release(Storage storage, long allocatedSince) {
        if (!allocatedSince(storage, allocatedSince)) {
            return false;
        }
        Span s = live.remove(storage);
        inUse -= s.size;
        giveBack(s.chunk, s.offset, s.size);
        return true;
    }

    @Override
    public final boolean allocatedSince(Storage storage, long mark) {
        Span s = live.get(storage);
        return s != null && s.serial >= mark;
    }

    /** Adds a span to the chunk's released spans, joined with those it touches, or to the bump region it ends at. */
    private void giveBack(int chunk, long offset, long size) {
        TreeMap<Long, Long> spans = released.get(chunk);
        Map.Entry<Long, Long> before = spans.floorEntry(offset);
        if (before != null && before.getKey() + before.getValue() == offset) {
            spans.remove(before.getKey());
            offset = before.getKey();
            size += before.getValue();
        }
        Long after = spans.remove(offset + size);
        if (after != null) {
            size += after;
        }
        if (chunk == current && offset + size == used) {
            used = offset;
        } else {
            spans.put(offset, size);
        }
    }

    @Override
    public final void reset() {
        current = 0;
        used = 0;
        inUse = 0;
        live.clear();
        released.forEach(TreeMap::clear);
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
