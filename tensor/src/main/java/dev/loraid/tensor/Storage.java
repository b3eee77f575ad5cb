package dev.loraid.tensor;

import java.lang.foreign.MemorySegment;

/**
 * A span of bytes on one device. On the CPU the segment is ordinary host memory (heap, off-heap arena or a
 * memory-mapped file). On a GPU the segment only carries the device address and size: host code must never
 * dereference it. Tensors are views over a storage; several views may share one.
 */
public final class Storage {
    private final Device device;
    private final MemorySegment segment;
    private final Object owner;

    /**
     * @param owner kept reachable as long as this storage is (e.g. the mapped file or pool chunk the segment
     *              belongs to), so that memory is not released under a live view; may be null
     */
    public Storage(Device device, MemorySegment segment, Object owner) {
        this.device = device;
        this.segment = segment;
        this.owner = owner;
    }

    /** Wraps host memory. */
    public static Storage host(MemorySegment segment) {
        return new Storage(Device.CPU, segment, null);
    }

    public Device device() {
        return device;
    }

    public MemorySegment segment() {
        return segment;
    }

    public long byteSize() {
        return segment.byteSize();
    }

    /** The object whose lifetime bounds this storage's memory, or null. */
    public Object owner() {
        return owner;
    }
}
