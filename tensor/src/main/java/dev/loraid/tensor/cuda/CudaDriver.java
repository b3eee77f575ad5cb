package dev.loraid.tensor.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static dev.loraid.tensor.cuda.Ffm.INT;
import static dev.loraid.tensor.cuda.Ffm.FLOAT;
import static dev.loraid.tensor.cuda.Ffm.LONG;
import static dev.loraid.tensor.cuda.Ffm.PTR;
import static dev.loraid.tensor.cuda.Ffm.fn;

/**
 * Hand-written FFM bindings to the CUDA driver API ({@code cuda.h}, the {@code _v2} entry points that the
 * header's macros select). Device pointers are {@code long}s; contexts, streams, events, modules and functions
 * are opaque {@link MemorySegment} handles. Every call checks its {@code CUresult} and throws a
 * {@link CudaException} naming the call and the error.
 */
public final class CudaDriver {
    public static final int CUDA_ERROR_NO_DEVICE = 100;
    public static final int ATTR_MULTIPROCESSOR_COUNT = 16;
    public static final int ATTR_COMPUTE_CAPABILITY_MAJOR = 75;
    public static final int ATTR_COMPUTE_CAPABILITY_MINOR = 76;
    public static final int ATTR_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
    public static final int FUNC_ATTR_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;
    public static final int STREAM_NON_BLOCKING = 1;
    /** {@code CU_EVENT_DISABLE_TIMING}. */
    static final int EVENT_DISABLE_TIMING = 2;

    private static final String LIB = "libcuda";

    private final MethodHandle cuInit;
    private final MethodHandle cuGetErrorName;
    private final MethodHandle cuGetErrorString;
    private final MethodHandle cuDriverGetVersion;
    private final MethodHandle cuDeviceGetCount;
    private final MethodHandle cuDeviceGet;
    private final MethodHandle cuDeviceGetName;
    private final MethodHandle cuDeviceGetAttribute;
    private final MethodHandle cuDeviceTotalMem;
    private final MethodHandle cuDevicePrimaryCtxRetain;
    private final MethodHandle cuCtxSetCurrent;
    private final MethodHandle cuStreamCreate;
    private final MethodHandle cuStreamSynchronize;
    private final MethodHandle cuEventCreate;
    private final MethodHandle cuEventRecord;
    private final MethodHandle cuEventSynchronize;
    private final MethodHandle cuEventElapsedTime;
    private final MethodHandle cuEventDestroy;
    private final MethodHandle cuStreamWaitEvent;
    private final MethodHandle cuMemAllocHost;
    private final MethodHandle cuMemFreeHost;
    private final MethodHandle cuMemAlloc;
    private final MethodHandle cuMemFree;
    private final MethodHandle cuMemGetInfo;
    private final MethodHandle cuMemcpyHtoDAsync;
    private final MethodHandle cuMemcpyDtoHAsync;
    private final MethodHandle cuMemcpyDtoDAsync;
    private final MethodHandle cuModuleLoadData;
    private final MethodHandle cuModuleGetFunction;
    private final MethodHandle cuFuncSetAttribute;
    private final MethodHandle cuLaunchKernel;

    public CudaDriver(SymbolLookup lib) {
        FunctionDescriptor intOfPtr = FunctionDescriptor.of(INT, PTR);
        cuInit = fn(lib, LIB, "cuInit", FunctionDescriptor.of(INT, INT));
        cuGetErrorName = fn(lib, LIB, "cuGetErrorName", FunctionDescriptor.of(INT, INT, PTR));
        cuGetErrorString = fn(lib, LIB, "cuGetErrorString", FunctionDescriptor.of(INT, INT, PTR));
        cuDriverGetVersion = fn(lib, LIB, "cuDriverGetVersion", intOfPtr);
        cuDeviceGetCount = fn(lib, LIB, "cuDeviceGetCount", intOfPtr);
        cuDeviceGet = fn(lib, LIB, "cuDeviceGet", FunctionDescriptor.of(INT, PTR, INT));
        cuDeviceGetName = fn(lib, LIB, "cuDeviceGetName", FunctionDescriptor.of(INT, PTR, INT, INT));
        cuDeviceGetAttribute = fn(lib, LIB, "cuDeviceGetAttribute", FunctionDescriptor.of(INT, PTR, INT, INT));
        cuDeviceTotalMem = fn(lib, LIB, "cuDeviceTotalMem_v2", FunctionDescriptor.of(INT, PTR, INT));
        cuDevicePrimaryCtxRetain = fn(lib, LIB, "cuDevicePrimaryCtxRetain", FunctionDescriptor.of(INT, PTR, INT));
        cuCtxSetCurrent = fn(lib, LIB, "cuCtxSetCurrent", intOfPtr);
        cuStreamCreate = fn(lib, LIB, "cuStreamCreate", FunctionDescriptor.of(INT, PTR, INT));
        cuStreamSynchronize = fn(lib, LIB, "cuStreamSynchronize", intOfPtr);
        cuEventCreate = fn(lib, LIB, "cuEventCreate", FunctionDescriptor.of(INT, PTR, INT));
        cuEventRecord = fn(lib, LIB, "cuEventRecord", FunctionDescriptor.of(INT, PTR, PTR));
        cuEventSynchronize = fn(lib, LIB, "cuEventSynchronize", intOfPtr);
        cuEventElapsedTime = Ffm.fnFirst(lib, LIB, FunctionDescriptor.of(INT, PTR, PTR, PTR), "cuEventElapsedTime_v2",
            "cuEventElapsedTime");
        cuEventDestroy = fn(lib, LIB, "cuEventDestroy_v2", intOfPtr);
        cuStreamWaitEvent = fn(lib, LIB, "cuStreamWaitEvent", FunctionDescriptor.of(INT, PTR, PTR, INT));
        cuMemAllocHost = fn(lib, LIB, "cuMemAllocHost_v2", FunctionDescriptor.of(INT, PTR, LONG));
        cuMemFreeHost = fn(lib, LIB, "cuMemFreeHost", intOfPtr);
        cuMemAlloc = fn(lib, LIB, "cuMemAlloc_v2", FunctionDescriptor.of(INT, PTR, LONG));
        cuMemFree = fn(lib, LIB, "cuMemFree_v2", FunctionDescriptor.of(INT, LONG));
        cuMemGetInfo = fn(lib, LIB, "cuMemGetInfo_v2", FunctionDescriptor.of(INT, PTR, PTR));
        cuMemcpyHtoDAsync = fn(lib, LIB, "cuMemcpyHtoDAsync_v2", FunctionDescriptor.of(INT, LONG, PTR, LONG, PTR));
        cuMemcpyDtoHAsync = fn(lib, LIB, "cuMemcpyDtoHAsync_v2", FunctionDescriptor.of(INT, PTR, LONG, LONG, PTR));
        cuMemcpyDtoDAsync = fn(lib, LIB, "cuMemcpyDtoDAsync_v2", FunctionDescriptor.of(INT, LONG, LONG, LONG, PTR));
        cuModuleLoadData = fn(lib, LIB, "cuModuleLoadData", FunctionDescriptor.of(INT, PTR, PTR));
        cuModuleGetFunction = fn(lib, LIB, "cuModuleGetFunction", FunctionDescriptor.of(INT, PTR, PTR, PTR));
        cuFuncSetAttribute = fn(lib, LIB, "cuFuncSetAttribute", FunctionDescriptor.of(INT, PTR, INT, INT));
        cuLaunchKernel = fn(lib, LIB, "cuLaunchKernel", FunctionDescriptor.of(INT, PTR, INT, INT, INT, INT, INT,
            INT, INT, PTR, PTR, PTR));
    }

    // ---- errors ----

    /** Throws a {@link CudaException} naming {@code call} and the driver's name and text for {@code rc}. */
    void check(int rc, String call) {
        if (rc != 0) {
            throw new CudaException(call + " failed: " + errorText(rc));
        }
    }

    /** {@code CUDA_ERROR_X (N): description}. */
    public String errorText(int rc) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment name = a.allocate(PTR);
            MemorySegment text = a.allocate(PTR);
            int r1 = (int) cuGetErrorName.invokeExact(rc, name);
            int r2 = (int) cuGetErrorString.invokeExact(rc, text);
            return (r1 == 0 ? Ffm.string(name.get(PTR, 0), "?") : "CUresult") + " (" + rc + ")"
                + (r2 == 0 ? ": " + Ffm.string(text.get(PTR, 0), "") : "");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    // ---- initialisation and devices ----

    /** {@code cuInit(0)}; returns the raw result so callers can tell "no device" from other failures. */
    public int init() {
        try {
            return (int) cuInit.invokeExact(0);
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    public int driverVersion() {
        return intOut(cuDriverGetVersion, "cuDriverGetVersion");
    }

    public int deviceCount() {
        return intOut(cuDeviceGetCount, "cuDeviceGetCount");
    }

    /** The CUdevice handle of ordinal {@code index}. */
    public int device(int index) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(INT);
            check((int) cuDeviceGet.invokeExact(out, index), "cuDeviceGet(" + index + ")");
            return out.get(INT, 0);
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    public String deviceName(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256);
            check((int) cuDeviceGetName.invokeExact(buf, 256, device), "cuDeviceGetName");
            return buf.getString(0);
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    public int attribute(int attr, int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(INT);
            check((int) cuDeviceGetAttribute.invokeExact(out, attr, device), "cuDeviceGetAttribute(" + attr + ")");
            return out.get(INT, 0);
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    public long totalMemory(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(LONG);
            check((int) cuDeviceTotalMem.invokeExact(out, device), "cuDeviceTotalMem");
            return out.get(LONG, 0);
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    /** Free and total device memory of the current context: {@code {free, total}}. */
    public long[] memoryInfo() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(LONG);
            MemorySegment total = a.allocate(LONG);
            check((int) cuMemGetInfo.invokeExact(free, total), "cuMemGetInfo");
            return new long[] {free.get(LONG, 0), total.get(LONG, 0)};
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    // ---- contexts and streams ----

    /** Retains the device's primary context (the one the runtime API and PyTorch share). */
    public MemorySegment primaryContext(int device) {
        return handleOut(out -> (int) cuDevicePrimaryCtxRetain.invokeExact(out, device), "cuDevicePrimaryCtxRetain");
    }

    /** Binds {@code ctx} to the calling thread; needed once per thread that issues CUDA calls. */
    public void setCurrent(MemorySegment ctx) {
        try {
            check((int) cuCtxSetCurrent.invokeExact(ctx), "cuCtxSetCurrent");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    public MemorySegment streamCreate(int flags) {
        return handleOut(out -> (int) cuStreamCreate.invokeExact(out, flags), "cuStreamCreate");
    }

    public void streamSynchronize(MemorySegment stream) {
        try {
            check((int) cuStreamSynchronize.invokeExact(stream), "cuStreamSynchronize");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    public MemorySegment eventCreate() {
        return handleOut(out -> (int) cuEventCreate.invokeExact(out, 0), "cuEventCreate");
    }

    /** An event for ordering only ({@code CU_EVENT_DISABLE_TIMING}: cheaper to record and wait for). */
    public MemorySegment eventCreateForOrdering() {
        return handleOut(out -> (int) cuEventCreate.invokeExact(out, EVENT_DISABLE_TIMING), "cuEventCreate");
    }

    /** Work enqueued on {@code stream} from now on waits until {@code event} has completed (the host does not wait). */
    public void streamWaitEvent(MemorySegment stream, MemorySegment event) {
        try {
            check((int) cuStreamWaitEvent.invokeExact(stream, event, 0), "cuStreamWaitEvent");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    public void eventRecord(MemorySegment event, MemorySegment stream) {
        try {
            check((int) cuEventRecord.invokeExact(event, stream), "cuEventRecord");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    public void eventSynchronize(MemorySegment event) {
        try {
            check((int) cuEventSynchronize.invokeExact(event), "cuEventSynchronize");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    /** Milliseconds between two recorded events. */
    public float eventElapsedMillis(MemorySegment start, MemorySegment end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(FLOAT);
            check((int) cuEventElapsedTime.invokeExact(out, start, end), "cuEventElapsedTime");
            return out.get(FLOAT, 0);
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    public void eventDestroy(MemorySegment event) {
        try {
            check((int) cuEventDestroy.invokeExact(event), "cuEventDestroy");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    // ---- memory ----

    /** {@code cuMemAlloc}; the result is 256-byte aligned. Out of memory throws naming the size. */
    public long memAlloc(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(LONG);
            check((int) cuMemAlloc.invokeExact(out, bytes), "cuMemAlloc(" + bytes + " bytes)");
            return out.get(LONG, 0);
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    /** {@code cuMemAllocHost}: page-locked host memory, from which copies to the device run asynchronously. */
    public MemorySegment memAllocHost(long bytes) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(PTR);
            check((int) cuMemAllocHost.invokeExact(out, bytes), "cuMemAllocHost(" + bytes + " bytes)");
            return out.get(PTR, 0);
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    public void memFreeHost(MemorySegment p) {
        try {
            check((int) cuMemFreeHost.invokeExact(p), "cuMemFreeHost");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    public void memFree(long ptr) {
        try {
            check((int) cuMemFree.invokeExact(ptr), "cuMemFree");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    public void copyHostToDevice(long dst, MemorySegment src, long bytes, MemorySegment stream) {
        try {
            check((int) cuMemcpyHtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyHtoDAsync(" + bytes + " bytes)");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    public void copyDeviceToHost(MemorySegment dst, long src, long bytes, MemorySegment stream) {
        try {
            check((int) cuMemcpyDtoHAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoHAsync(" + bytes + " bytes)");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    public void copyDeviceToDevice(long dst, long src, long bytes, MemorySegment stream) {
        try {
            check((int) cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream), "cuMemcpyDtoDAsync(" + bytes + " bytes)");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    // ---- modules and launches ----

    /** Loads a CUBIN or PTX image (NUL-terminated for PTX) into the current context. */
    public MemorySegment moduleLoadData(MemorySegment image) {
        return handleOut(out -> (int) cuModuleLoadData.invokeExact(out, image), "cuModuleLoadData");
    }

    public MemorySegment moduleFunction(MemorySegment module, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(PTR);
            check((int) cuModuleGetFunction.invokeExact(out, module, a.allocateFrom(name)),
                "cuModuleGetFunction(" + name + ")");
            return out.get(PTR, 0);
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    public void functionAttribute(MemorySegment function, int attr, int value) {
        try {
            check((int) cuFuncSetAttribute.invokeExact(function, attr, value), "cuFuncSetAttribute(" + attr + ")");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    /** {@code cuLaunchKernel}; {@code params} is the {@code void*[]} of pointers to each argument. */
    public void launch(MemorySegment function, int gx, int gy, int gz, int bx, int by, int bz, int sharedBytes,
                       MemorySegment stream, MemorySegment params, String name) {
        try {
            int rc = (int) cuLaunchKernel.invokeExact(function, gx, gy, gz, bx, by, bz, sharedBytes, stream, params,
                MemorySegment.NULL);
            if (rc != 0) {
                check(rc, "cuLaunchKernel(" + name + ", grid " + gx + "x" + gy + "x" + gz + ", block " + bx + "x" + by
                    + "x" + bz + ", " + sharedBytes + " B shared)");
            }
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    // ---- plumbing ----

    @FunctionalInterface
    private interface HandleCall {
        int call(MemorySegment out) throws Throwable;
    }

    private MemorySegment handleOut(HandleCall c, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(PTR);
            check(c.call(out), name);
            return out.get(PTR, 0);
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    private int intOut(MethodHandle h, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(INT);
            check((int) h.invokeExact(out), name);
            return out.get(INT, 0);
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }
}
