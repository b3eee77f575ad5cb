package dev.loraid.tensor;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * A step-scoped region: while open on a thread, every tensor that thread allocates comes from the scope, and
 * closing the scope releases all of them at once, deterministically (design.md, "Memory"). Tensors that must
 * outlive the scope (parameters, gradients, optimizer state) are allocated outside it, or inside
 * {@link #suspend()}.
 *
 * <pre>{@code
 * try (MemoryScope step = MemoryScope.open()) {
 *     Tensor loss = model.forward(batch); ...
 * } // every activation of the step is released here
 * }</pre>
 */
public final class MemoryScope implements AutoCloseable {
    private static final ThreadLocal<ArrayDeque<MemoryScope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);
    /** Allocators are pooled per thread and device, so consecutive steps reuse the same memory. */
    private static final ThreadLocal<Map<Device, ArrayDeque<ScopeAllocator>>> POOL = ThreadLocal.withInitial(HashMap::new);

    /** Per thread and device: the most bytes ever in use at once across all open scopes (see {@link #peakBytesInUse}). */
    private static final ThreadLocal<Map<Device, Long>> PEAK = ThreadLocal.withInitial(HashMap::new);

    private final Map<Device, ScopeAllocator> allocators = new HashMap<>();
    private final boolean suspended;
    private boolean closed;

    private MemoryScope(boolean suspended) {
        this.suspended = suspended;
    }

    /** Opens a scope on the current thread; scopes nest. */
    public static MemoryScope open() {
        MemoryScope s = new MemoryScope(false);
        STACK.get().push(s);
        return s;
    }

    /**
     * Opens a region in which allocations bypass every enclosing scope and live until the garbage collector or
     * their owner frees them: for state that outlives a step.
     */
    public static MemoryScope suspend() {
        MemoryScope s = new MemoryScope(true);
        STACK.get().push(s);
        return s;
    }

    /** The innermost open scope of this thread that allocates, or null when allocations are not scoped. */
    public static MemoryScope current() {
        MemoryScope top = STACK.get().peek();
        return top == null || top.suspended ? null : top;
    }

    /** Allocates {@code bytes} on the backend's device from this scope. */
    public Storage allocate(Backend backend, long bytes) {
        ScopeAllocator a = allocators.computeIfAbsent(backend.device(), d -> {
            ArrayDeque<ScopeAllocator> pooled = POOL.get().get(d);
            return pooled != null && !pooled.isEmpty() ? pooled.pop() : backend.newScopeAllocator();
        });
        Storage st = a.allocate(bytes);
        long inUse = 0;
        for (MemoryScope open : STACK.get()) {
            inUse += open.bytesInUse(backend.device());
        }
        PEAK.get().merge(backend.device(), inUse, Math::max);
        return st;
    }

    /**
     * The high-water mark of scoped bytes in use at once on {@code device} by this thread, summed over nested
     * scopes, since the last {@link #resetPeak}: how training steps and checkpointing are measured.
     */
    public static long peakBytesInUse(Device device) {
        return PEAK.get().getOrDefault(device, 0L);
    }

    /** Bytes in use right now on {@code device} by this thread's open scopes, nested ones summed. */
    public static long bytesInUseNow(Device device) {
        long inUse = 0;
        for (MemoryScope open : STACK.get()) {
            inUse += open.bytesInUse(device);
        }
        return inUse;
    }

    /** Starts a new high-water-mark measurement on this thread. */
    public static void resetPeak(Device device) {
        PEAK.get().remove(device);
    }

    /**
     * A mark for {@link #release}: allocations made from now on, by any scope, are newer than it
     * ({@link ChunkedScopeAllocator#nextSerial()}).
     */
    public static long mark() {
        return ChunkedScopeAllocator.nextSerial();
    }

    /**
     * Gives the memory under {@code t} back to its scope before the scope closes, if {@code t}'s storage was allocated
     * by an open scope since {@code mark} ({@link #mark()}); otherwise (a weight, a mapped file, an older activation, a
     * storage of a closed scope) does nothing. The caller guarantees that no tensor over that storage is used again:
     * the backward pass gives back a gradient once the node it was for has used it.
     *
     * @return whether the memory was given back
     */
    public static boolean release(Tensor t, long mark) {
        return t.storage().owner() instanceof ScopeAllocator a && a.release(t.storage(), mark);
    }

    /** Whether {@code t}'s storage was allocated by an open scope since {@code mark} ({@link #mark()}). */
    public static boolean allocatedSince(Tensor t, long mark) {
        return t.storage().owner() instanceof ScopeAllocator a && a.allocatedSince(t.storage(), mark);
    }

    /** Bytes this scope has handed out on {@code device}. */
    public long bytesInUse(Device device) {
        ScopeAllocator a = allocators.get(device);
        return a == null ? 0 : a.bytesInUse();
    }

    /** Bytes held from the system by this thread's pooled allocators on {@code device}, in use or free. */
    public static long bytesReserved(Device device) {
        long total = 0;
        for (MemoryScope s : STACK.get()) {
            ScopeAllocator a = s.allocators.get(device);
            total += a == null ? 0 : a.bytesReserved();
        }
        for (ScopeAllocator a : POOL.get().getOrDefault(device, new ArrayDeque<>())) {
            total += a.bytesReserved();
        }
        return total;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        ArrayDeque<MemoryScope> stack = STACK.get();
        if (stack.peek() != this) {
            throw new IllegalStateException("memory scopes must be closed in reverse order of opening");
        }
        stack.pop();
        closed = true;
        for (Map.Entry<Device, ScopeAllocator> e : allocators.entrySet()) {
            e.getValue().reset();
            POOL.get().computeIfAbsent(e.getKey(), d -> new ArrayDeque<>()).push(e.getValue());
        }
        allocators.clear();
    }

}
