package dev.loraid.tensor.cuda;

import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.cuda.CuBlasLt.NoAlgorithmException;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Precision;
import dev.loraid.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code Backend.matmul} on cuBLASLt. cuBLASLt is column-major, so the row-major {@code C = A·B} runs as
 * {@code Cᵀ = Bᵀ·Aᵀ}: a row-major [R, C] view with unit column stride is, to cuBLASLt, the column-major [C, R]
 * matrix with the same leading dimension, and a transposed view (unit row stride) is the plain one with
 * {@code OP_T}. Batch dimensions collapse into one strided batch where the strides allow (a shared 2-D weight has
 * batch stride 0), else the leading batch dimensions loop on the host. Mixed operand dtypes are widened to a
 * common one first (FP8 weights to BF16, anything with F32 to F32); a bias that matches C's dtype rides in the
 * GEMM's epilogue.
 */
final class CudaGemm {
    private static final long WORKSPACE = 32L << 20;
    private static final int MAX_PLANS = 512;

    private final CudaBackend backend;
    private final CuBlasLt lt;
    private final MemorySegment handle;
    private final boolean tf32;
    private CudaAllocator.Block workspace;
    private final Map<String, CuBlasLt.Plan> plans = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, CuBlasLt.Plan> e) {
            if (size() > MAX_PLANS) {
                e.getValue().close();
                return true;
            }
            return false;
        }
    };

    CudaGemm(CudaBackend backend, CuBlasLt lt) {
        this.backend = backend;
        this.lt = lt;
        this.handle = lt.createHandle();
        this.tf32 = Boolean.getBoolean("loraid.cuda.tf32");
    }

    /** The cuBLASLt operand type for a tensor dtype, or -1 when cuBLASLt cannot take it directly. */
    static int dataType(DType t) {
        return switch (t) {
            case F32 -> CuBlasLt.R_32F;
            case F64 -> CuBlasLt.R_64F;
            case F16 -> CuBlasLt.R_16F;
            case BF16 -> CuBlasLt.R_16BF;
            default -> -1;
        };
    }

    /** The dtype both operands are brought to: theirs if equal and supported, F32 if either is wide, else BF16. */
    static DType operandType(DType a, DType b) {
        if (a == b && dataType(a) >= 0) {
            return a;
        }
        if (a == DType.F32 || a == DType.F64 || b == DType.F32 || b == DType.F64) {
            return DType.F32;
        }
        return a == DType.F16 || a == DType.BF16 ? a : DType.BF16;
    }

    /** Whether a GEMM over {@code in} operands may write a {@code c} of this dtype directly. */
    static boolean outputOk(DType in, DType c) {
        return switch (in) {
            case F64 -> c == DType.F64;
            case F32 -> c == DType.F32;
            case BF16, F16 -> c == in || c == DType.F32;
            default -> false;
        };
    }

    /** A matrix as cuBLASLt stores it: op, rows, cols, ld — or null when neither dimension has unit stride. */
    record Operand(int op, long rows, long cols, long ld) {
    }

    /**
     * The cuBLASLt operand holding {@code Xᵀ} for a row-major [R, C] view with strides (sr, sc): unit column stride
     * stores Xᵀ as-is (OP_N); unit row stride stores X (OP_T). Size-1 dimensions take whatever stride fits.
     */
    static Operand transposedOperand(long r, long c, long sr, long sc) {
        long csr = r == 1 ? Math.max(c, 1) : sr;
        long csc = c == 1 ? 1 : sc;
        if (csc == 1 && csr >= Math.max(c, 1)) {
            return new Operand(CuBlasLt.OP_N, c, r, csr);
        }
        long rsr = r == 1 ? 1 : sr;
        long rsc = c == 1 ? Math.max(r, 1) : sc;
        if (rsr == 1 && rsc >= Math.max(r, 1)) {
            return new Operand(CuBlasLt.OP_T, r, c, rsc);
        }
        return null;
    }

    void matmul(Tensor a, Tensor b, Tensor c, double alpha, double beta, Tensor bias) {
        long m = c.size(-2);
        long n = c.size(-1);
        long k = a.size(-1);
        if (a.size(-2) != m || b.size(-2) != k || b.size(-1) != n || (bias != null && bias.numel() != n)) {
            throw new IllegalArgumentException("matmul shapes do not agree: a " + a.shape() + " @ b " + b.shape()
                + " -> c " + c.shape() + (bias == null ? "" : " + bias " + bias.shape()));
        }
        if (m == 0 || n == 0) {
            return;
        }
        long[] batch = Arrays.copyOf(c.shape().toArray(), c.rank() - 2);
        if (k == 0) {
            if (beta == 0) {
                backend.fill(c, 0);
            } else {
                backend.binaryScalar(BinaryOp.MUL, c, beta, c);
            }
            addBias(c, bias);
            return;
        }
        DType in = Precision.fp64(a, b, c) ? DType.F64 // the bias is cast to C's type, so it does not vote
            : operandType(a.dtype(), b.dtype());
        long mark = MemoryScope.mark();
        // cast before broadcasting, so a shared weight is widened once, not once per batch
        Tensor ca = a.dtype() == in ? a : backend.cast(a, in);
        Tensor cb = b.dtype() == in ? b : backend.cast(b, in);
        Tensor ea = expandBatch(usable(ca, m, k), batch);
        Tensor eb = expandBatch(usable(cb, k, n), batch);
        Tensor target = c;
        Operand oc = transposedOperand(m, n, c.stride(-2), c.stride(-1));
        if (!outputOk(in, c.dtype()) || oc == null || oc.op() != CuBlasLt.OP_N) {
            target = backend.emptyLike(c.shape().toArray(), in == DType.F64 ? DType.F64 : DType.F32);
            if (beta != 0) {
                backend.copy(c, target);
            }
        }
        boolean fusedBias = bias != null && bias.dtype() == target.dtype() && (bias.stride(-1) == 1 || n == 1);
        if (fusedBias) {
            try {
                run(ea, eb, target, batch, alpha, beta, bias, in);
            } catch (NoAlgorithmException e) { // no kernel with the bias epilogue for this problem: add it after
                fusedBias = false;
                run(ea, eb, target, batch, alpha, beta, null, in);
            }
        } else {
            run(ea, eb, target, batch, alpha, beta, null, in);
        }
        if (bias != null && !fusedBias) {
            addBias(target, bias);
        }
        if (target != c) {
            backend.copy(target, c);
        }
        // the casts, contiguous copies and fp32 target made here die now (a bf16 activation widened for an fp32 LoRA
        // factor is a residual stream per product): give them back, or the step's scope holds them to its end. Later
        // work that reuses the memory is queued behind this GEMM on the same stream. The caller's tensors are older.
        for (Tensor t : new Tensor[] {ca, cb, ea, eb, target}) {
            MemoryScope.release(t, mark);
        }
    }

    private void addBias(Tensor c, Tensor bias) {
        if (bias != null) {
            backend.binary(BinaryOp.ADD, c, bias.reshape(bias.numel()).expand(c.shape()), c);
        }
    }

    private static Tensor expandBatch(Tensor t, long[] batch) {
        long[] dims = Arrays.copyOf(batch, batch.length + 2);
        dims[batch.length] = t.size(-2);
        dims[batch.length + 1] = t.size(-1);
        return t.expand(dims);
    }

    /** t itself when cuBLASLt can read its last two dimensions, else a contiguous copy. */
    private Tensor usable(Tensor t, long rows, long cols) {
        return transposedOperand(rows, cols, t.stride(-2), t.stride(-1)) != null ? t : backend.contiguousCopy(t);
    }

    private void run(Tensor a, Tensor b, Tensor c, long[] batch, double alpha, double beta, Tensor bias, DType in) {
        int r = batch.length;
        long[] sa = Arrays.copyOf(a.strides(), r);
        long[] sb = Arrays.copyOf(b.strides(), r);
        long[] sc = Arrays.copyOf(c.strides(), r);
        long[][] merged = CudaLayout.coalesce(batch, sa, sb, sc);
        long[] dims = merged[0];
        int outer = Math.max(0, dims.length - 1);
        long count = dims.length == 0 ? 1 : dims[dims.length - 1];
        long strideA = dims.length == 0 ? 0 : merged[1][dims.length - 1];
        long strideB = dims.length == 0 ? 0 : merged[2][dims.length - 1];
        long strideC = dims.length == 0 ? 0 : merged[3][dims.length - 1];
        if (count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("matmul batch of " + count + " is too large for cuBLASLt");
        }
        long m = c.size(-2);
        long n = c.size(-1);
        long k = a.size(-1);
        Operand opA = transposedOperand(k, n, b.stride(-2), b.stride(-1));   // cuBLASLt's A = Bᵀ [N, K]
        Operand opB = transposedOperand(m, k, a.stride(-2), a.stride(-1));   // cuBLASLt's B = Aᵀ [K, M]
        Operand opC = transposedOperand(m, n, c.stride(-2), c.stride(-1));   // D = Cᵀ [N, M]
        int typeIn = dataType(in);
        int typeC = dataType(c.dtype());
        int compute = in == DType.F64 ? CuBlasLt.COMPUTE_64F : in == DType.F32 && tf32 ? CuBlasLt.COMPUTE_32F_FAST_TF32
            : CuBlasLt.COMPUTE_32F;
        int scale = in == DType.F64 ? CuBlasLt.R_64F : CuBlasLt.R_32F;
        int epilogue = bias != null ? CuBlasLt.EPILOGUE_BIAS : CuBlasLt.EPILOGUE_DEFAULT;
        int bc = (int) count;
        CuBlasLt.Layout la = new CuBlasLt.Layout(typeIn, opA.rows(), opA.cols(), opA.ld(), bc, strideB);
        CuBlasLt.Layout lb = new CuBlasLt.Layout(typeIn, opB.rows(), opB.cols(), opB.ld(), bc, strideA);
        CuBlasLt.Layout lc = new CuBlasLt.Layout(typeC, opC.rows(), opC.cols(), opC.ld(), bc, strideC);
        long es = in.byteSize();
        long cs = c.dtype().byteSize();
        // alignment that holds for every batch slice: pointer, batch strides and leading dimensions
        int[] align = {
            alignment(backend.pointer(b), strideB * es, opA.ld() * es, merged[2], es),
            alignment(backend.pointer(a), strideA * es, opB.ld() * es, merged[1], es),
            alignment(backend.pointer(c), strideC * cs, opC.ld() * cs, merged[3], cs)};
        CuBlasLt.Plan plan = plan(compute, scale, opA.op(), opB.op(), la, lb, lc, epilogue, typeC, align);
        long ws = workspace().ptr;
        long biasPtr = bias == null ? 0 : backend.pointer(bias);
        long[] idx = new long[outer];
        long outerCount = 1;
        for (int i = 0; i < outer; i++) {
            outerCount *= dims[i];
        }
        for (long o = 0; o < outerCount; o++) {
            long offA = 0;
            long offB = 0;
            long offC = 0;
            for (int i = 0; i < outer; i++) {
                offA += idx[i] * merged[1][i];
                offB += idx[i] * merged[2][i];
                offC += idx[i] * merged[3][i];
            }
            long pa = backend.pointer(b) + offB * es;
            long pb = backend.pointer(a) + offA * es;
            long pc = backend.pointer(c) + offC * cs;
            CudaProfile.time(backend.context(), "cublasLt " + in + " " + m + "x" + n + "x" + k + (bc > 1 ? " ×" + bc : ""),
                () -> plan.run(handle, alpha, beta, pa, pb, pc, biasPtr, ws, backend.context().stream()));
            for (int i = outer - 1; i >= 0; i--) {
                if (++idx[i] < dims[i]) {
                    break;
                }
                idx[i] = 0;
            }
        }
    }

    /** The largest power of two up to 256 dividing the pointer and every byte step between slices and columns. */
    static int alignment(long ptr, long batchStrideBytes, long ldBytes, long[] outerStrides, long elemBytes) {
        long g = ptr | batchStrideBytes | ldBytes | 256;
        for (long s : outerStrides) {
            g |= s * elemBytes;
        }
        return (int) Long.lowestOneBit(g);
    }

    private CuBlasLt.Plan plan(int compute, int scale, int opA, int opB, CuBlasLt.Layout a, CuBlasLt.Layout b,
                               CuBlasLt.Layout c, int epilogue, int biasType, int[] align) {
        String key = compute + "/" + scale + "/" + opA + "/" + opB + "/" + a + "/" + b + "/" + c + "/" + epilogue
            + "/" + Arrays.toString(align);
        CuBlasLt.Plan p = plans.get(key);
        if (p == null) {
            p = lt.plan(handle, compute, scale, opA, opB, a, b, c, epilogue, biasType, WORKSPACE, align);
            plans.put(key, p);
        }
        return p;
    }

    private CudaAllocator.Block workspace() {
        if (workspace == null) {
            workspace = backend.allocator().take(WORKSPACE);
        }
        return workspace;
    }
}
