package dev.loraid.tensor.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.loraid.tensor.cuda.Ffm.INT;
import static dev.loraid.tensor.cuda.Ffm.LONG;
import static dev.loraid.tensor.cuda.Ffm.PTR;
import static dev.loraid.tensor.cuda.Ffm.fn;

/**
 * Hand-written FFM bindings to the cuDNN 9 backend (graph) API: handles, backend descriptors and their attributes,
 * finalize and execute. The enum values are those of {@code cudnn_graph.h} (cuDNN 9.x); {@code CuDnnConstantsTest}
 * pins each one to its header line. Every failing call throws a {@link Failure} naming the call, the descriptor and
 * the attribute, with cuDNN's status text and its last-error message.
 */
public final class CuDnn {
    // cudnnBackendDescriptorType_t
    static final int POINTWISE_DESCRIPTOR = 0;
    static final int ENGINECFG_DESCRIPTOR = 3;
    static final int ENGINEHEUR_DESCRIPTOR = 4;
    static final int EXECUTION_PLAN_DESCRIPTOR = 5;
    static final int OPERATION_POINTWISE_DESCRIPTOR = 13;
    static final int OPERATIONGRAPH_DESCRIPTOR = 15;
    static final int VARIANT_PACK_DESCRIPTOR = 16;
    static final int TENSOR_DESCRIPTOR = 17;
    static final int MATMUL_DESCRIPTOR = 18;
    static final int OPERATION_MATMUL_DESCRIPTOR = 19;
    static final int REDUCTION_DESCRIPTOR = 21;
    static final int OPERATION_REDUCTION_DESCRIPTOR = 22;
    static final int OPERATION_RESHAPE_DESCRIPTOR = 31;
    // cudnnBackendAttributeType_t
    static final int TYPE_HANDLE = 0;
    static final int TYPE_DATA_TYPE = 1;
    static final int TYPE_BOOLEAN = 2;
    static final int TYPE_INT64 = 3;
    static final int TYPE_FLOAT = 4;
    static final int TYPE_VOID_PTR = 6;
    static final int TYPE_HEUR_MODE = 8;
    static final int TYPE_POINTWISE_MODE = 14;
    static final int TYPE_BACKEND_DESCRIPTOR = 15;
    static final int TYPE_REDUCTION_OPERATOR_TYPE = 18;
    // cudnnBackendAttributeName_t
    static final int ATTR_POINTWISE_MODE = 0;
    static final int ATTR_POINTWISE_MATH_PREC = 1;
    static final int ATTR_ENGINEHEUR_MODE = 200;
    static final int ATTR_ENGINEHEUR_OPERATION_GRAPH = 201;
    static final int ATTR_ENGINEHEUR_RESULTS = 202;
    static final int ATTR_EXECUTION_PLAN_HANDLE = 400;
    static final int ATTR_EXECUTION_PLAN_ENGINE_CONFIG = 401;
    static final int ATTR_EXECUTION_PLAN_WORKSPACE_SIZE = 402;
    static final int ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR = 750;
    static final int ATTR_OPERATION_POINTWISE_XDESC = 751;
    static final int ATTR_OPERATION_POINTWISE_BDESC = 752;
    static final int ATTR_OPERATION_POINTWISE_YDESC = 753;
    static final int ATTR_OPERATIONGRAPH_HANDLE = 800;
    static final int ATTR_OPERATIONGRAPH_OPS = 801;
    static final int ATTR_TENSOR_BYTE_ALIGNMENT = 900;
    static final int ATTR_TENSOR_DATA_TYPE = 901;
    static final int ATTR_TENSOR_DIMENSIONS = 902;
    static final int ATTR_TENSOR_STRIDES = 903;
    static final int ATTR_TENSOR_UNIQUE_ID = 906;
    static final int ATTR_TENSOR_IS_VIRTUAL = 907;
    static final int ATTR_TENSOR_IS_BY_VALUE = 908;
    static final int ATTR_VARIANT_PACK_UNIQUE_IDS = 1000;
    static final int ATTR_VARIANT_PACK_DATA_POINTERS = 1001;
    static final int ATTR_VARIANT_PACK_WORKSPACE = 1003;
    static final int ATTR_MATMUL_COMP_TYPE = 1500;
    static final int ATTR_OPERATION_MATMUL_ADESC = 1520;
    static final int ATTR_OPERATION_MATMUL_BDESC = 1521;
    static final int ATTR_OPERATION_MATMUL_CDESC = 1522;
    static final int ATTR_OPERATION_MATMUL_DESC = 1523;
    static final int ATTR_REDUCTION_OPERATOR = 1600;
    static final int ATTR_REDUCTION_COMP_TYPE = 1601;
    static final int ATTR_OPERATION_REDUCTION_XDESC = 1610;
    static final int ATTR_OPERATION_REDUCTION_YDESC = 1611;
    static final int ATTR_OPERATION_REDUCTION_DESC = 1612;
    static final int ATTR_OPERATION_RESHAPE_XDESC = 2200;
    static final int ATTR_OPERATION_RESHAPE_YDESC = 2201;
    // cudnnDataType_t
    static final int DATA_FLOAT = 0;
    static final int DATA_HALF = 2;
    static final int DATA_BFLOAT16 = 9;
    // cudnnPointwiseMode_t
    static final int POINTWISE_ADD = 0;
    static final int POINTWISE_MUL = 1;
    static final int POINTWISE_DIV = 6;
    static final int POINTWISE_SUB = 9;
    static final int POINTWISE_EXP = 13;
    static final int POINTWISE_LOG = 15;
    static final int POINTWISE_IDENTITY = 21;
    // cudnnReduceTensorOp_t
    static final int REDUCE_ADD = 0;
    static final int REDUCE_MAX = 3;
    // cudnnBackendHeurMode_t
    static final int HEUR_MODE_FALLBACK = 2;
    static final int HEUR_MODE_A = 3;
    // cudnnStatus_t: categories are thousands (9.x); 3000..3999 are the NOT_SUPPORTED family
    static final int STATUS_SUCCESS = 0;
    static final int STATUS_NOT_SUPPORTED = 3000;

    /** The sub-libraries libcudnn.so.9 opens by soname; loaded first by absolute path (no LD_LIBRARY_PATH needed). */
    static final List<String> SUB_LIBRARIES = List.of("libcudnn_graph.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9",
        "libcudnn_adv.so.9", "libcudnn_engines_runtime_compiled.so.9", "libcudnn_engines_precompiled.so.9",
        "libcudnn_heuristic.so.9");

    private static final String LIB = "libcudnn";

    /** A cuDNN call that failed: what was being done, cuDNN's status and last-error text. */
    public static final class Failure extends CudaException {
        private final int status;

        Failure(String message, int status) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }

        /** cuDNN declined the graph (NOT_SUPPORTED family) rather than failing for another reason. */
        public boolean notSupported() {
            return status / 1000 == STATUS_NOT_SUPPORTED / 1000;
        }
    }

    private final MethodHandle getVersion;
    private final MethodHandle create;
    private final MethodHandle destroy;
    private final MethodHandle setStream;
    private final MethodHandle createDescriptor;
    private final MethodHandle destroyDescriptor;
    private final MethodHandle setAttribute;
    private final MethodHandle getAttribute;
    private final MethodHandle finalizeDescriptor;
    private final MethodHandle execute;
    private final MethodHandle errorString;
    private final MethodHandle lastErrorString;

    public CuDnn(SymbolLookup lib) {
        getVersion = fn(lib, LIB, "cudnnGetVersion", FunctionDescriptor.of(LONG));
        create = fn(lib, LIB, "cudnnCreate", FunctionDescriptor.of(INT, PTR));
        destroy = fn(lib, LIB, "cudnnDestroy", FunctionDescriptor.of(INT, PTR));
        setStream = fn(lib, LIB, "cudnnSetStream", FunctionDescriptor.of(INT, PTR, PTR));
        createDescriptor = fn(lib, LIB, "cudnnBackendCreateDescriptor", FunctionDescriptor.of(INT, INT, PTR));
        destroyDescriptor = fn(lib, LIB, "cudnnBackendDestroyDescriptor", FunctionDescriptor.of(INT, PTR));
        setAttribute = fn(lib, LIB, "cudnnBackendSetAttribute", FunctionDescriptor.of(INT, PTR, INT, INT, LONG, PTR));
        getAttribute = fn(lib, LIB, "cudnnBackendGetAttribute",
            FunctionDescriptor.of(INT, PTR, INT, INT, LONG, PTR, PTR));
        finalizeDescriptor = fn(lib, LIB, "cudnnBackendFinalize", FunctionDescriptor.of(INT, PTR));
        execute = fn(lib, LIB, "cudnnBackendExecute", FunctionDescriptor.of(INT, PTR, PTR, PTR));
        errorString = fn(lib, LIB, "cudnnGetErrorString", FunctionDescriptor.of(PTR, INT));
        lastErrorString = fn(lib, LIB, "cudnnGetLastErrorString", FunctionDescriptor.ofVoid(PTR, LONG));
    }

    /**
     * Loads libcudnn.so.9 from the search folders of {@code libs}, its sub-libraries first by absolute path from the
     * same folder (those present; a missing one is left to libcudnn, which names it when a graph needs it).
     */
    public static CuDnn load(CudaLibraries libs) {
        libs.locate(CudaLibraries.CUDNN).ifPresent(main -> {
            for (String sub : SUB_LIBRARIES) {
                Path p = main.resolveSibling(sub);
                if (Files.isRegularFile(p)) {
                    try {
                        SymbolLookup.libraryLookup(p, Arena.global());
                    } catch (IllegalArgumentException e) {
                        System.getLogger(CuDnn.class.getName()).log(System.Logger.Level.DEBUG,
                            "cuDNN: " + p + " does not load (" + e.getMessage() + "); libcudnn will try it itself");
                    }
                }
            }
        });
        return new CuDnn(libs.load(CudaLibraries.CUDNN));
    }

    /** {@code cudnnGetVersion}: e.g. 91000 for 9.10.0. */
    public long version() {
        try {
            return (long) getVersion.invokeExact();
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    /** A handle bound to {@code stream} (the calling thread's current context must be the backend's). */
    MemorySegment createHandle(MemorySegment stream) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(PTR);
            check((int) create.invokeExact(out), "cudnnCreate");
            MemorySegment h = out.get(PTR, 0);
            check((int) setStream.invokeExact(h, stream), "cudnnSetStream");
            return h;
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    void destroyHandle(MemorySegment handle) {
        try {
            check((int) destroy.invokeExact(handle), "cudnnDestroy");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    MemorySegment createDescriptor(int type, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(PTR);
            check((int) createDescriptor.invokeExact(type, out), "cudnnBackendCreateDescriptor(" + what + ")");
            return out.get(PTR, 0);
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    /** Destroys without throwing (cleanup paths must not hide the failure that led there). */
    void destroyDescriptor(MemorySegment desc) {
        try {
            int ignored = (int) destroyDescriptor.invokeExact(desc);
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    /** {@code cudnnBackendSetAttribute(desc, name, type, count, elements)}; {@code what} names desc and attribute. */
    void setAttribute(MemorySegment desc, int name, int type, long count, MemorySegment elements, String what) {
        try {
            check((int) setAttribute.invokeExact(desc, name, type, count, elements), "cudnnBackendSetAttribute(" + what
                + ", attribute " + name + ", type " + type + ", " + count + " elements)");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    /** {@code cudnnBackendGetAttribute}; returns the element count cuDNN reports. */
    long getAttribute(MemorySegment desc, int name, int type, long requested, MemorySegment elements, String what) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment count = a.allocate(LONG);
            check((int) getAttribute.invokeExact(desc, name, type, requested, count, elements),
                "cudnnBackendGetAttribute(" + what + ", attribute " + name + ")");
            return count.get(LONG, 0);
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    void finalizeDescriptor(MemorySegment desc, String what) {
        try {
            check((int) finalizeDescriptor.invokeExact(desc), "cudnnBackendFinalize(" + what + ")");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    void execute(MemorySegment handle, MemorySegment plan, MemorySegment variantPack, String what) {
        try {
            check((int) execute.invokeExact(handle, plan, variantPack), "cudnnBackendExecute(" + what + ")");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    /** Throws a {@link Failure} for a non-zero status, with cuDNN's status name and last-error message. */
    void check(int status, String call) {
        if (status == STATUS_SUCCESS) {
            return;
        }
        throw new Failure(call + " failed: " + statusText(status) + " (" + status + "); cuDNN: " + lastError(), status);
    }

    String statusText(int status) {
        try {
            return Ffm.string((MemorySegment) errorString.invokeExact(status), "unknown status");
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    /** cuDNN's message for the last failure on this thread ({@code cudnnGetLastErrorString}), or "(none)". */
    String lastError() {
        try (Arena a = Arena.ofConfined()) {
            long size = 4096;
            MemorySegment buf = a.allocate(size);
            lastErrorString.invokeExact(buf, size);
            String s = buf.getString(0);
            return s.isBlank() ? "(no message)" : s.strip();
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }
}
