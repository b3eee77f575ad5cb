package dev.loraid.autograd.ops;

import dev.loraid.autograd.GradBuffer;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.Precision;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;

import java.util.Arrays;

/**
 * Tensor-level helpers for forward and backward passes: allocate the output (from the current memory scope),
 * call the {@link dev.loraid.tensor.Backend} kernel, return it. No graph here.
 *
 * <p>Compute dtype: F64 when every floating input is F64 (gradient checks), F32 otherwise (design.md,
 * "Precision": bf16/fp8 weights feed fp32 math).
 */
public final class TensorMath {
    private TensorMath() {
    }

    /** F64 if every non-null tensor is F64, else F32: {@link Precision#computeType}, the one rule. */
    public static DType computeType(Tensor... ts) {
        return Precision.computeType(ts);
    }

    /** The dtype of gradients for data of {@code type}. */
    public static DType gradType(DType type) {
        return type == DType.F64 ? DType.F64 : DType.F32;
    }

    /** Saved statistics (norm mean/rstd, attention log-sum-exp): F64 in F64 math, else F32 (Backend contract). */
    public static DType statsType(DType compute) {
        return compute == DType.F64 ? DType.F64 : DType.F32;
    }

    public static Tensor empty(Tensor like, DType type, Shape shape) {
        return Tensor.empty(like.device(), type, shape.toArray());
    }

    public static Tensor zeros(Tensor like, DType type, Shape shape) {
        return Tensor.zeros(like.device(), type, shape.toArray());
    }

    public static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        Tensor out = empty(a, computeType(a, b), Shape.broadcast(a.shape(), b.shape()));
        a.backend().binary(op, a, b, out);
        return out;
    }

    public static Tensor binaryScalar(BinaryOp op, Tensor a, double s) {
        Tensor out = empty(a, computeType(a), a.shape());
        a.backend().binaryScalar(op, a, s, out);
        return out;
    }

    /** {@code a · alpha + b · beta}, broadcast. */
    public static Tensor addScaled(Tensor a, double alpha, Tensor b, double beta) {
        Tensor out = empty(a, computeType(a, b), Shape.broadcast(a.shape(), b.shape()));
        a.backend().addScaled(a, alpha, b, beta, out);
        return out;
    }

    public static Tensor add(Tensor a, Tensor b) {
        return addScaled(a, 1.0, b, 1.0);
    }

    public static Tensor scale(Tensor a, double s) {
        return binaryScalar(BinaryOp.MUL, a, s);
    }

    public static Tensor unary(UnaryOp op, Tensor x) {
        Tensor out = empty(x, computeType(x), x.shape());
        x.backend().unary(op, x, out);
        return out;
    }

    /** A contiguous copy in {@code type}. */
    public static Tensor cast(Tensor x, DType type) {
        Tensor out = empty(x, type, x.shape());
        x.backend().copy(x, out);
        return out;
    }

    /** {@code a @ b}: a [..., M, K], b [..., K, N], batch dimensions broadcast; result [..., M, N]. */
    public static Tensor matmul(Tensor a, Tensor b) {
        return matmulInto(a, b, null, computeType(a, b));
    }

    /**
     * A gradient product {@code alpha · a @ b} (2-D, or a batch against one matrix) of {@code shape}: written into
     * {@code into} (overwriting or adding, see {@link GradBuffer}) when one is offered in the compute dtype, else
     * into a new tensor.
     */
    static Tensor matmulGrad(Tensor a, Tensor b, double alpha, GradBuffer into, Shape shape) {
        DType type = computeType(a, b);
        long[] dims = Arrays.copyOf(a.shape().toArray(), a.rank());
        dims[a.rank() - 1] = b.size(-1);
        if (into != null && into.tensor().dtype() == type) {
            a.backend().matmul(a, b, into.tensor().reshape(dims), alpha, into.beta(), null);
            return into.tensor();
        }
        Tensor c = Tensor.empty(a.device(), type, dims);
        a.backend().matmul(a, b, c, alpha, 0.0, null);
        return c.reshape(shape.toArray());
    }

    static Tensor matmulInto(Tensor a, Tensor b, Tensor bias, DType type) {
        if (a.rank() < 2 || b.rank() < 2 || a.size(-1) != b.size(-2)) {
            throw new IllegalArgumentException("matmul of " + a.shape() + " and " + b.shape()
                + ": expected [..., M, K] and [..., K, N]");
        }
        Shape batch = Shape.broadcast(batchShape(a), batchShape(b));
        long[] dims = Arrays.copyOf(batch.toArray(), batch.rank() + 2);
        dims[batch.rank()] = a.size(-2);
        dims[batch.rank() + 1] = b.size(-1);
        Tensor c = Tensor.empty(a.device(), type, dims);
        a.backend().matmul(a, b, c, 1.0, 0.0, bias);
        return c;
    }

    private static Shape batchShape(Tensor t) {
        return Shape.of(Arrays.copyOf(t.shape().toArray(), t.rank() - 2));
    }

    /** Reduces over {@code dims}; the result keeps them as size 1 when {@code keepDim}, else drops them. */
    public static Tensor reduce(ReduceOp op, Tensor x, int[] dims, boolean keepDim) {
        int[] norm = normalizeDims(x.shape(), dims);
        long[] kept = x.shape().toArray();
        for (int d : norm) {
            kept[d] = 1;
        }
        Tensor out = Tensor.empty(x.device(), computeType(x), kept);
        x.backend().reduce(op, x, norm, out);
        return keepDim ? out : out.view(dropDims(x.shape(), norm));
    }

    /** Sums {@code g} down to {@code target}: the backward of broadcasting (NumPy rules, leading dims dropped). */
    public static Tensor sumToShape(Tensor g, Shape target) {
        if (g.shape().equals(target)) {
            return g;
        }
        int lead = g.rank() - target.rank();
        if (lead < 0) {
            throw new IllegalArgumentException("cannot reduce gradient " + g.shape() + " to larger shape " + target);
        }
        int[] dims = new int[g.rank()];
        int n = 0;
        for (int i = 0; i < g.rank(); i++) {
            if (i < lead || (target.dim(i - lead) == 1 && g.size(i) != 1)) {
                dims[n++] = i;
            } else if (target.dim(i - lead) != g.size(i)) {
                throw new IllegalArgumentException("gradient " + g.shape() + " does not broadcast from " + target);
            }
        }
        Tensor r = n == 0 ? g : reduce(ReduceOp.SUM, g, Arrays.copyOf(dims, n), true);
        return r.reshape(target.toArray());
    }

    static int[] normalizeDims(Shape s, int[] dims) {
        int[] out = new int[dims.length];
        boolean[] seen = new boolean[s.rank()];
        for (int i = 0; i < dims.length; i++) {
            out[i] = s.normalize(dims[i]);
            if (seen[out[i]]) {
                throw new IllegalArgumentException("dimension " + dims[i] + " repeated in " + Arrays.toString(dims));
            }
            seen[out[i]] = true;
        }
        Arrays.sort(out);
        return out;
    }

    static long[] dropDims(Shape s, int[] sortedDims) {
        long[] out = new long[s.rank() - sortedDims.length];
        for (int i = 0, j = 0, k = 0; i < s.rank(); i++) {
            if (k < sortedDims.length && sortedDims[k] == i) {
                k++;
            } else {
                out[j++] = s.dim(i);
            }
        }
        return out;
    }

    static int[] allDims(int rank) {
        int[] d = new int[rank];
        for (int i = 0; i < rank; i++) {
            d[i] = i;
        }
        return d;
    }
}
