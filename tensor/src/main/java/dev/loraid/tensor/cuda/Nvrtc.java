package dev.loraid.tensor.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Map;

import static dev.loraid.tensor.cuda.Ffm.INT;
import static dev.loraid.tensor.cuda.Ffm.LONG;
import static dev.loraid.tensor.cuda.Ffm.PTR;
import static dev.loraid.tensor.cuda.Ffm.fn;

/**
 * Hand-written FFM bindings to NVRTC ({@code nvrtc.h}): compiles one CUDA C source with in-memory headers to a
 * CUBIN (for a real {@code sm_XY} target) or PTX. A failed compile throws with the compiler's log.
 */
public final class Nvrtc {
    private static final String LIB = "libnvrtc";

    private final MethodHandle nvrtcVersion;
    private final MethodHandle nvrtcGetErrorString;
    private final MethodHandle nvrtcCreateProgram;
    private final MethodHandle nvrtcDestroyProgram;
    private final MethodHandle nvrtcCompileProgram;
    private final MethodHandle nvrtcGetProgramLogSize;
    private final MethodHandle nvrtcGetProgramLog;
    private final MethodHandle nvrtcGetCUBINSize;
    private final MethodHandle nvrtcGetCUBIN;

    public Nvrtc(SymbolLookup lib) {
        FunctionDescriptor progSize = FunctionDescriptor.of(INT, PTR, PTR);
        nvrtcVersion = fn(lib, LIB, "nvrtcVersion", FunctionDescriptor.of(INT, PTR, PTR));
        nvrtcGetErrorString = fn(lib, LIB, "nvrtcGetErrorString", FunctionDescriptor.of(PTR, INT));
        nvrtcCreateProgram = fn(lib, LIB, "nvrtcCreateProgram", FunctionDescriptor.of(INT, PTR, PTR, PTR, INT, PTR, PTR));
        nvrtcDestroyProgram = fn(lib, LIB, "nvrtcDestroyProgram", FunctionDescriptor.of(INT, PTR));
        nvrtcCompileProgram = fn(lib, LIB, "nvrtcCompileProgram", FunctionDescriptor.of(INT, PTR, INT, PTR));
        nvrtcGetProgramLogSize = fn(lib, LIB, "nvrtcGetProgramLogSize", progSize);
        nvrtcGetProgramLog = fn(lib, LIB, "nvrtcGetProgramLog", progSize);
        nvrtcGetCUBINSize = fn(lib, LIB, "nvrtcGetCUBINSize", progSize);
        nvrtcGetCUBIN = fn(lib, LIB, "nvrtcGetCUBIN", progSize);
    }

    /** {@code "major.minor"}, part of the kernel cache key. */
    public String version() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment major = a.allocate(INT);
            MemorySegment minor = a.allocate(INT);
            check((int) nvrtcVersion.invokeExact(major, minor), "nvrtcVersion");
            return major.get(INT, 0) + "." + minor.get(INT, 0);
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    /**
     * Compiles {@code source} to a CUBIN.
     *
     * @param name    the source's file name, used in diagnostics
     * @param headers in-memory headers: include name → text
     * @param options e.g. {@code --gpu-architecture=sm_90}, {@code -std=c++17}
     */
    public byte[] compileToCubin(String name, String source, Map<String, String> headers, List<String> options) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment headerTexts = a.allocate(PTR, Math.max(1, headers.size()));
            MemorySegment headerNames = a.allocate(PTR, Math.max(1, headers.size()));
            int i = 0;
            for (Map.Entry<String, String> h : headers.entrySet()) {
                headerTexts.setAtIndex(PTR, i, a.allocateFrom(h.getValue()));
                headerNames.setAtIndex(PTR, i, a.allocateFrom(h.getKey()));
                i++;
            }
            MemorySegment progOut = a.allocate(PTR);
            check((int) nvrtcCreateProgram.invokeExact(progOut, a.allocateFrom(source), a.allocateFrom(name),
                headers.size(), headerTexts, headerNames), "nvrtcCreateProgram(" + name + ")");
            MemorySegment prog = progOut.get(PTR, 0);
            try {
                MemorySegment opts = a.allocate(PTR, Math.max(1, options.size()));
                for (int j = 0; j < options.size(); j++) {
                    opts.setAtIndex(PTR, j, a.allocateFrom(options.get(j)));
                }
                int rc = (int) nvrtcCompileProgram.invokeExact(prog, options.size(), opts);
                if (rc != 0) {
                    throw new CudaException("NVRTC could not compile " + name + " with " + options + ": "
                        + errorString(rc) + "\n" + log(prog, a));
                }
                MemorySegment size = a.allocate(LONG);
                check((int) nvrtcGetCUBINSize.invokeExact(prog, size), "nvrtcGetCUBINSize(" + name + ")");
                MemorySegment cubin = a.allocate(size.get(LONG, 0));
                check((int) nvrtcGetCUBIN.invokeExact(prog, cubin), "nvrtcGetCUBIN(" + name + ")");
                return cubin.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
            } finally {
                int ignored = (int) nvrtcDestroyProgram.invokeExact(progOut);
            }
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    private String log(MemorySegment prog, Arena a) throws Throwable {
        MemorySegment size = a.allocate(LONG);
        check((int) nvrtcGetProgramLogSize.invokeExact(prog, size), "nvrtcGetProgramLogSize");
        MemorySegment text = a.allocate(Math.max(1, size.get(LONG, 0)));
        check((int) nvrtcGetProgramLog.invokeExact(prog, text), "nvrtcGetProgramLog");
        return text.getString(0);
    }

    private String errorString(int rc) throws Throwable {
        return Ffm.string((MemorySegment) nvrtcGetErrorString.invokeExact(rc), "nvrtcResult " + rc);
    }

    private void check(int rc, String call) throws Throwable {
        if (rc != 0) {
            throw new CudaException(call + " failed: " + errorString(rc) + " (" + rc + ")");
        }
    }
}
