package dev.loraid.tensor.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static dev.loraid.tensor.cuda.Ffm.INT;
import static dev.loraid.tensor.cuda.Ffm.LONG;
import static dev.loraid.tensor.cuda.Ffm.PTR;
import static dev.loraid.tensor.cuda.Ffm.fn;

/**
 * Hand-written FFM bindings to cuBLASLt ({@code cublasLt.h}, enum values of CUDA 12/13). Matrices are
 * column-major as cuBLASLt sees them; {@link CudaGemm} maps row-major tensors onto them. A {@link Plan} is one
 * fully described GEMM (descriptors, layouts and the heuristic's best algorithm), built once per problem
 * signature and reused.
 */
public final class CuBlasLt {
    // cudaDataType_t
    public static final int R_32F = 0;
    public static final int R_64F = 1;
    public static final int R_16F = 2;
    public static final int R_16BF = 14;
    public static final int R_8F_E4M3 = 28;
    public static final int R_8F_E5M2 = 29;
    // cublasComputeType_t
    public static final int COMPUTE_32F = 68;
    public static final int COMPUTE_64F = 70;
    public static final int COMPUTE_32F_FAST_TF32 = 77;
    // cublasOperation_t
    public static final int OP_N = 0;
    public static final int OP_T = 1;
    // cublasLtMatmulDescAttributes_t
    private static final int DESC_TRANSA = 3;
    private static final int DESC_TRANSB = 4;
    private static final int DESC_EPILOGUE = 7;
    private static final int DESC_BIAS_POINTER = 8;
    private static final int DESC_BIAS_DATA_TYPE = 26;
    // cublasLtMatrixLayoutAttribute_t
    private static final int LAYOUT_BATCH_COUNT = 5;
    private static final int LAYOUT_STRIDED_BATCH_OFFSET = 6;
    // cublasLtMatmulPreferenceAttributes_t
    private static final int PREF_MAX_WORKSPACE_BYTES = 1;
    private static final int PREF_MIN_ALIGNMENT_A_BYTES = 5;
    private static final int PREF_MIN_ALIGNMENT_B_BYTES = 6;
    private static final int PREF_MIN_ALIGNMENT_C_BYTES = 7;
    private static final int PREF_MIN_ALIGNMENT_D_BYTES = 8;
    // cublasLtEpilogue_t
    public static final int EPILOGUE_DEFAULT = 1;
    public static final int EPILOGUE_BIAS = 4;
    public static final int EPILOGUE_GELU = 32;
    public static final int EPILOGUE_GELU_BIAS = 36;
    /** sizeof(cublasLtMatmulHeuristicResult_t): algo (64) + workspaceSize (8) + state (4) + wavesCount (4) + reserved (16). */
    private static final long HEURISTIC_BYTES = 96;
    private static final long HEURISTIC_STATE_OFFSET = 72;

    private static final String LIB = "libcublasLt";

    private final MethodHandle create;
    private final MethodHandle getVersion;
    private final MethodHandle descCreate;
    private final MethodHandle descSet;
    private final MethodHandle descDestroy;
    private final MethodHandle layoutCreate;
    private final MethodHandle layoutSet;
    private final MethodHandle layoutDestroy;
    private final MethodHandle prefCreate;
    private final MethodHandle prefSet;
    private final MethodHandle prefDestroy;
    private final MethodHandle heuristic;
    private final MethodHandle matmul;

    public CuBlasLt(SymbolLookup lib) {
        FunctionDescriptor setAttr = FunctionDescriptor.of(INT, PTR, INT, PTR, LONG);
        FunctionDescriptor destroy = FunctionDescriptor.of(INT, PTR);
        create = fn(lib, LIB, "cublasLtCreate", FunctionDescriptor.of(INT, PTR));
        getVersion = fn(lib, LIB, "cublasLtGetVersion", FunctionDescriptor.of(LONG));
        descCreate = fn(lib, LIB, "cublasLtMatmulDescCreate", FunctionDescriptor.of(INT, PTR, INT, INT));
        descSet = fn(lib, LIB, "cublasLtMatmulDescSetAttribute", setAttr);
        descDestroy = fn(lib, LIB, "cublasLtMatmulDescDestroy", destroy);
        layoutCreate = fn(lib, LIB, "cublasLtMatrixLayoutCreate", FunctionDescriptor.of(INT, PTR, INT, LONG, LONG, LONG));
        layoutSet = fn(lib, LIB, "cublasLtMatrixLayoutSetAttribute", setAttr);
        layoutDestroy = fn(lib, LIB, "cublasLtMatrixLayoutDestroy", destroy);
        prefCreate = fn(lib, LIB, "cublasLtMatmulPreferenceCreate", FunctionDescriptor.of(INT, PTR));
        prefSet = fn(lib, LIB, "cublasLtMatmulPreferenceSetAttribute", setAttr);
        prefDestroy = fn(lib, LIB, "cublasLtMatmulPreferenceDestroy", destroy);
        heuristic = fn(lib, LIB, "cublasLtMatmulAlgoGetHeuristic",
            FunctionDescriptor.of(INT, PTR, PTR, PTR, PTR, PTR, PTR, PTR, INT, PTR, PTR));
        matmul = fn(lib, LIB, "cublasLtMatmul",
            FunctionDescriptor.of(INT, PTR, PTR, PTR, LONG, PTR, LONG, PTR, PTR, LONG, PTR, LONG, PTR, PTR, LONG, LONG, PTR));
    }

    public long version() {
        try {
            return (long) getVersion.invokeExact();
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    public MemorySegment createHandle() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(PTR);
            check((int) create.invokeExact(out), "cublasLtCreate");
            return out.get(PTR, 0);
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    /** The heuristic found no algorithm for a GEMM (e.g. an epilogue the problem's layouts do not support). */
    public static final class NoAlgorithmException extends CudaException {
        NoAlgorithmException(String message) {
            super(message);
        }
    }

    /** One operand's column-major layout: rows × cols with leading dimension ld, batched with a fixed stride. */
    public record Layout(int type, long rows, long cols, long ld, int batch, long batchStride) {
    }

    /**
     * One GEMM {@code D = alpha·op(A)·op(B) + beta·C (+ epilogue)}, C and D sharing a layout. Its native objects
     * live in the plan's own arena until {@link #close}.
     */
    public final class Plan implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private final int scaleType;
        private MemorySegment desc = MemorySegment.NULL;
        private MemorySegment la = MemorySegment.NULL;
        private MemorySegment lb = MemorySegment.NULL;
        private MemorySegment lc = MemorySegment.NULL;
        private MemorySegment algo;
        private long workspaceBytes;

        private Plan(MemorySegment handle, int computeType, int scaleType, int opA, int opB, Layout a, Layout b,
                     Layout c, int epilogue, int biasType, long maxWorkspace, int[] alignments) throws Throwable {
            this.scaleType = scaleType;
            try {
                MemorySegment out = arena.allocate(PTR);
                check((int) descCreate.invokeExact(out, computeType, scaleType), "cublasLtMatmulDescCreate");
                desc = out.get(PTR, 0);
                setInt(descSet, desc, DESC_TRANSA, opA);
                setInt(descSet, desc, DESC_TRANSB, opB);
                setInt(descSet, desc, DESC_EPILOGUE, epilogue);
                if (epilogue == EPILOGUE_BIAS || epilogue == EPILOGUE_GELU_BIAS) {
                    setInt(descSet, desc, DESC_BIAS_DATA_TYPE, biasType);
                }
                la = layout(a);
                lb = layout(b);
                lc = layout(c);
                chooseAlgorithm(handle, maxWorkspace, alignments, computeType, epilogue, opA, opB, a, b, c);
            } catch (Throwable t) {
                close();
                throw t;
            }
        }

        private void chooseAlgorithm(MemorySegment handle, long maxWorkspace, int[] alignments, int computeType,
                                     int epilogue, int opA, int opB, Layout a, Layout b, Layout c) throws Throwable {
            MemorySegment out = arena.allocate(PTR);
            check((int) prefCreate.invokeExact(out), "cublasLtMatmulPreferenceCreate");
            MemorySegment pref = out.get(PTR, 0);
            try {
                MemorySegment ws = arena.allocateFrom(LONG, maxWorkspace);
                check((int) prefSet.invokeExact(pref, PREF_MAX_WORKSPACE_BYTES, ws, 8L), "cublasLtMatmulPreferenceSetAttribute");
                // the heuristic otherwise assumes 256-byte aligned pointers, and views into bigger tensors are not
                setInt(prefSet, pref, PREF_MIN_ALIGNMENT_A_BYTES, alignments[0]);
                setInt(prefSet, pref, PREF_MIN_ALIGNMENT_B_BYTES, alignments[1]);
                setInt(prefSet, pref, PREF_MIN_ALIGNMENT_C_BYTES, alignments[2]);
                setInt(prefSet, pref, PREF_MIN_ALIGNMENT_D_BYTES, alignments[2]);
                MemorySegment results = arena.allocate(HEURISTIC_BYTES, 8);
                MemorySegment count = arena.allocate(INT);
                check((int) heuristic.invokeExact(handle, desc, la, lb, lc, lc, pref, 1, results, count),
                    "cublasLtMatmulAlgoGetHeuristic");
                if (count.get(INT, 0) < 1 || results.get(INT, HEURISTIC_STATE_OFFSET) != 0) {
                    throw new NoAlgorithmException("cuBLASLt has no algorithm for GEMM " + describe(opA, opB, a, b, c)
                        + " (compute type " + computeType + ", epilogue " + epilogue + ")");
                }
                algo = results.asSlice(0, 64);
                workspaceBytes = results.get(LONG, 64);
            } finally {
                int ignored = (int) prefDestroy.invokeExact(pref);
            }
        }

        private MemorySegment layout(Layout l) throws Throwable {
            MemorySegment out = arena.allocate(PTR);
            check((int) layoutCreate.invokeExact(out, l.type(), l.rows(), l.cols(), l.ld()), "cublasLtMatrixLayoutCreate");
            MemorySegment layout = out.get(PTR, 0);
            if (l.batch() > 1) {
                setInt(layoutSet, layout, LAYOUT_BATCH_COUNT, l.batch());
                MemorySegment stride = arena.allocateFrom(LONG, l.batchStride());
                check((int) layoutSet.invokeExact(layout, LAYOUT_STRIDED_BATCH_OFFSET, stride, 8L),
                    "cublasLtMatrixLayoutSetAttribute(STRIDED_BATCH_OFFSET)");
            }
            return layout;
        }

        public long workspaceBytes() {
            return workspaceBytes;
        }

        /** Enqueues the GEMM on {@code stream}; {@code bias} is 0 unless the epilogue has one. */
        public void run(MemorySegment handle, double alpha, double beta, long a, long b, long c, long bias,
                        long workspace, MemorySegment stream) {
            try (Arena call = Arena.ofConfined()) {
                MemorySegment alphaSeg = scalar(call, alpha);
                MemorySegment betaSeg = scalar(call, beta);
                if (bias != 0) {
                    MemorySegment p = call.allocateFrom(LONG, bias);
                    check((int) descSet.invokeExact(desc, DESC_BIAS_POINTER, p, 8L), "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
                }
                check((int) matmul.invokeExact(handle, desc, alphaSeg, a, la, b, lb, betaSeg, c, lc, c, lc, algo,
                    workspace, workspaceBytes, stream), "cublasLtMatmul");
            } catch (Throwable t) {
                throw Ffm.rethrow(t);
            }
        }

        private MemorySegment scalar(Arena a, double v) {
            return scaleType == R_64F ? a.allocateFrom(ValueLayout.JAVA_DOUBLE, v) : a.allocateFrom(ValueLayout.JAVA_FLOAT, (float) v);
        }

        @Override
        public void close() {
            if (!arena.scope().isAlive()) {
                return;
            }
            try {
                for (MemorySegment l : new MemorySegment[] {la, lb, lc}) {
                    if (!l.equals(MemorySegment.NULL)) {
                        int ignored = (int) layoutDestroy.invokeExact(l);
                    }
                }
                if (!desc.equals(MemorySegment.NULL)) {
                    int ignored = (int) descDestroy.invokeExact(desc);
                }
            } catch (Throwable t) {
                throw Ffm.rethrow(t);
            } finally {
                la = lb = lc = desc = MemorySegment.NULL;
                arena.close();
            }
        }
    }

    /**
     * Builds a {@link Plan}; the heuristic may use up to {@code maxWorkspace} bytes of workspace.
     *
     * @param alignments the byte alignment guaranteed for the A, B and C/D pointers of every run
     */
    public Plan plan(MemorySegment handle, int computeType, int scaleType, int opA, int opB, Layout a, Layout b,
                     Layout c, int epilogue, int biasType, long maxWorkspace, int[] alignments) {
        try {
            return new Plan(handle, computeType, scaleType, opA, opB, a, b, c, epilogue, biasType, maxWorkspace,
                alignments);
        } catch (Throwable t) {
            throw Ffm.rethrow(t);
        }
    }

    private static String describe(int opA, int opB, Layout a, Layout b, Layout c) {
        return "A" + (opA == OP_T ? "ᵀ" : "") + " " + a + " × B" + (opB == OP_T ? "ᵀ" : "") + " " + b + " → " + c;
    }

    private void setInt(MethodHandle setter, MemorySegment obj, int attr, int value) throws Throwable {
        try (Arena a = Arena.ofConfined()) {
            check((int) setter.invokeExact(obj, attr, a.allocateFrom(INT, value), 4L), "cuBLASLt set attribute " + attr);
        }
    }

    private static void check(int status, String call) {
        if (status != 0) {
            throw new CudaException(call + " failed: cublasStatus_t " + status + statusName(status));
        }
    }

    private static String statusName(int s) {
        return switch (s) {
            case 1 -> " (NOT_INITIALIZED)";
            case 3 -> " (ALLOC_FAILED)";
            case 7 -> " (INVALID_VALUE)";
            case 8 -> " (ARCH_MISMATCH)";
            case 11 -> " (MAPPING_ERROR)";
            case 13 -> " (EXECUTION_FAILED)";
            case 14 -> " (INTERNAL_ERROR)";
            case 15 -> " (NOT_SUPPORTED)";
            default -> "";
        };
    }
}
