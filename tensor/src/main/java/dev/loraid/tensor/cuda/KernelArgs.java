package dev.loraid.tensor.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code void* kernelParams[]} of one launch: each argument is written into the call's arena and its address
 * appended, in the kernel's parameter order. Structs (e.g. a {@link CudaLayout}) are passed by value.
 */
final class KernelArgs {
    private final Arena arena;
    private final List<MemorySegment> slots = new ArrayList<>();

    KernelArgs(Arena arena) {
        this.arena = arena;
    }

    /** A device pointer (or 0 for a kernel's optional argument). */
    KernelArgs ptr(long devicePointer) {
        slots.add(arena.allocateFrom(ValueLayout.JAVA_LONG, devicePointer));
        return this;
    }

    KernelArgs i64(long v) {
        slots.add(arena.allocateFrom(ValueLayout.JAVA_LONG, v));
        return this;
    }

    KernelArgs i32(int v) {
        slots.add(arena.allocateFrom(ValueLayout.JAVA_INT, v));
        return this;
    }

    KernelArgs f64(double v) {
        slots.add(arena.allocateFrom(ValueLayout.JAVA_DOUBLE, v));
        return this;
    }

    /** A struct passed by value, already laid out (e.g. {@link CudaLayout#pack}). */
    KernelArgs struct(MemorySegment value) {
        slots.add(value);
        return this;
    }

    Arena arena() {
        return arena;
    }

    MemorySegment array() {
        MemorySegment a = arena.allocate(ValueLayout.ADDRESS, Math.max(1, slots.size()));
        for (int i = 0; i < slots.size(); i++) {
            a.setAtIndex(ValueLayout.ADDRESS, i, slots.get(i));
        }
        return a;
    }
}
