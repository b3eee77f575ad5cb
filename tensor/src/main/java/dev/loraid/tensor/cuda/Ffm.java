package dev.loraid.tensor.cuda;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** Small helpers shared by the hand-written FFM bindings (CUDA driver, NVRTC, cuBLASLt). */
final class Ffm {
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT;
    static final java.lang.foreign.AddressLayout PTR = ValueLayout.ADDRESS;

    private Ffm() {
    }

    /** A downcall handle for {@code symbol}; a missing symbol names the library (usually too old a version). */
    static MethodHandle fn(SymbolLookup lib, String libName, String symbol, FunctionDescriptor fd) {
        MemorySegment addr = lib.find(symbol).orElseThrow(() -> new CudaException(
            libName + " has no symbol '" + symbol + "': the installed version is too old for loraid"));
        return Linker.nativeLinker().downcallHandle(addr, fd);
    }

    /** The first of {@code symbols} the library has (newest ABI first, e.g. {@code cuEventElapsedTime_v2}). */
    static MethodHandle fnFirst(SymbolLookup lib, String libName, FunctionDescriptor fd, String... symbols) {
        for (String s : symbols) {
            if (lib.find(s).isPresent()) {
                return fn(lib, libName, s, fd);
            }
        }
        throw new CudaException(libName + " has none of " + String.join(", ", symbols)
            + ": the installed version is too old for loraid");
    }

    /** A C string returned by a library (static storage), or {@code fallback} for NULL. */
    static String string(MemorySegment p, String fallback) {
        return p.equals(MemorySegment.NULL) ? fallback : p.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** Rethrows what a downcall threw; downcalls only throw on linkage problems, which are bugs here. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
