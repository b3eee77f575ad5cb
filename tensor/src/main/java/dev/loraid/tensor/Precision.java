package dev.loraid.tensor;

/**
 * The one precision rule of every {@link Backend} op (design.md, "Precision"): math runs in fp64 only when every
 * tensor involved is F64 (gradient checks); otherwise it runs in fp32, with BF16/F16/FP8 operands widened as they
 * are read. Backends pick their kernels and callers pick their result dtypes through this class only.
 */
public final class Precision {
    private Precision() {
    }

    /** True when at least one tensor is given and every non-null one is F64: the op then computes in fp64. */
    public static boolean fp64(Tensor... ts) {
        boolean any = false;
        for (Tensor t : ts) {
            if (t == null) {
                continue;
            }
            if (t.dtype() != DType.F64) {
                return false;
            }
            any = true;
        }
        return any;
    }

    /** The compute (and default result) dtype of an op over {@code ts}: F64 per {@link #fp64}, else F32. */
    public static DType computeType(Tensor... ts) {
        return fp64(ts) ? DType.F64 : DType.F32;
    }
}
