package dev.loraid.tensor.cpu.gemm;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

import java.util.Arrays;

/**
 * CPU matmul ({@link dev.loraid.tensor.Backend#matmul}): {@code c = alpha·(a @ b) + beta·c + bias} with
 * a [..., M, K], b [..., K, N], c [..., M, N], batch dimensions broadcast to c's. Checks the operands, lays the
 * batches out as strided matrices, and hands fp32 work to {@link BlockedGemm} (all-F64 work to
 * {@link GemmF64}). An output that is not F32 with unit column stride is computed in an F32 temporary and
 * copied back.
 */
public final class Gemm {
    private Gemm() {
    }

    public static void matmul(Tensor a, Tensor b, Tensor c, double alpha, double beta, Tensor bias) {
        check(a, b, c, bias);
        int rank = c.rank();
        long[] batchDims = Arrays.copyOf(c.shape().toArray(), rank - 2);
        Tensor ae = a.expand(concat(batchDims, a.size(-2), a.size(-1)));
        Tensor be = b.expand(concat(batchDims, b.size(-2), b.size(-1)));
        boolean allF64 = a.dtype() == DType.F64 && b.dtype() == DType.F64 && c.dtype() == DType.F64
            && (bias == null || bias.dtype() == DType.F64);
        if (allF64) {
            GemmF64.run(layout(ae, be, c), alpha, beta, bias);
            return;
        }
        boolean direct = c.dtype() == DType.F32 && (c.stride(-1) == 1 || c.size(-1) == 1);
        Tensor out = direct ? c : Tensor.empty(c.device(), DType.F32, c.shape().toArray());
        if (!direct && beta != 0) {
            c.backend().copy(c, out);
        }
        float[] biasValues = null;
        if (bias != null) {
            biasValues = new float[Math.toIntExact(bias.size(0))];
            FloatRuns.read(bias.storage().segment(), bias.dtype(), bias.offset(), bias.stride(0), biasValues, 0,
                biasValues.length);
        }
        Layout l = layout(ae, be, out);
        BlockedGemm.run(new BlockedGemm.Problem(l.a, l.b, l.c, l.aOffsets, l.bOffsets, l.cOffsets, (float) alpha,
            (float) beta, biasValues));
        if (!direct) {
            c.backend().copy(out, c);
        }
    }

    /** The operands as one strided matrix each plus per-batch element offsets. */
    record Layout(StridedMatrix a, StridedMatrix b, StridedMatrix c, long[] aOffsets, long[] bOffsets,
                  long[] cOffsets) {
    }

    /**
     * Batch offsets of a, b, c (already expanded to c's batch dimensions). When b is the same matrix for every
     * batch and the batch rows of a and c are evenly strided, the batches fold into the rows of one taller
     * GEMM (x [B, L, D] @ Wᵀ is one [B·L, D] GEMM), which packs B once instead of once per batch.
     */
    static Layout layout(Tensor a, Tensor b, Tensor c) {
        int rank = c.rank();
        long[] dims = c.shape().toArray();
        int batches = Math.toIntExact(c.numel() == 0 ? 0 : Arrays.stream(dims, 0, rank - 2).reduce(1, Math::multiplyExact));
        long[] as = a.strides();
        long[] bs = b.strides();
        long[] cs = c.strides();
        long aRow = foldedRowStride(a);
        long cRow = foldedRowStride(c);
        boolean bShared = true;
        for (int d = 0; d < rank - 2; d++) {
            bShared &= bs[d] == 0 || dims[d] == 1;
        }
        if (batches > 1 && bShared && aRow >= 0 && cRow >= 0) {
            int rows = Math.multiplyExact(batches, Math.toIntExact(a.size(-2)));
            return new Layout(
                matrix(a, rows, aRow), matrix(b, (int) b.size(-2), b.stride(-2)), matrix(c, rows, cRow),
                new long[] {a.offset()}, new long[] {b.offset()}, new long[] {c.offset()});
        }
        long[] ao = new long[batches];
        long[] bo = new long[batches];
        long[] co = new long[batches];
        long[] idx = new long[rank - 2];
        for (int i = 0; i < batches; i++) {
            long oa = a.offset();
            long ob = b.offset();
            long oc = c.offset();
            for (int d = 0; d < idx.length; d++) {
                oa += idx[d] * as[d];
                ob += idx[d] * bs[d];
                oc += idx[d] * cs[d];
            }
            ao[i] = oa;
            bo[i] = ob;
            co[i] = oc;
            for (int d = idx.length - 1; d >= 0 && ++idx[d] == dims[d]; d--) {
                idx[d] = 0;
            }
        }
        return new Layout(matrix(a, (int) a.size(-2), a.stride(-2)), matrix(b, (int) b.size(-2), b.stride(-2)),
            matrix(c, (int) c.size(-2), c.stride(-2)), ao, bo, co);
    }

    private static StridedMatrix matrix(Tensor t, int rows, long rowStride) {
        return new StridedMatrix(t.storage().segment(), t.dtype(), t.offset(), rows, Math.toIntExact(t.size(-1)),
            rowStride, t.stride(-1));
    }

    /**
     * The stride between consecutive rows when all dimensions but the last are merged into one, or -1 when
     * they do not merge (a broadcast or permuted batch dimension).
     */
    static long foldedRowStride(Tensor t) {
        long stride = -1;
        long extent = 0;
        for (int d = t.rank() - 2; d >= 0; d--) {
            long size = t.size(d);
            if (size == 1) {
                continue;
            }
            long s = t.stride(d);
            if (stride < 0) {
                stride = s;
            } else if (s != extent) {
                return -1;
            }
            extent = s * size;
        }
        return stride < 0 ? t.stride(-2) : stride;
    }

    private static void check(Tensor a, Tensor b, Tensor c, Tensor bias) {
        for (Tensor t : new Tensor[] {a, b, c}) {
            if (t.rank() < 2) {
                throw new IllegalArgumentException("matmul: operands need at least 2 dimensions, got a " + a.shape()
                    + ", b " + b.shape() + ", c " + c.shape());
            }
            if (!t.device().isCpu()) {
                throw new IllegalArgumentException("matmul: operand " + t + " is not on the cpu");
            }
        }
        if (a.size(-1) != b.size(-2) || c.size(-2) != a.size(-2) || c.size(-1) != b.size(-1)) {
            throw new IllegalArgumentException("matmul: shapes do not chain: a " + a.shape() + " @ b " + b.shape()
                + " -> c " + c.shape() + " (expected a [..., M, K], b [..., K, N], c [..., M, N])");
        }
        for (Tensor t : new Tensor[] {a, b}) {
            if (t.rank() > c.rank() || !broadcastsTo(t, c)) {
                throw new IllegalArgumentException("matmul: batch dimensions of " + t.shape()
                    + " do not broadcast to c " + c.shape());
            }
            if (t.size(-1) > Integer.MAX_VALUE || t.size(-2) > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("matmul: matrix dimensions of " + t.shape() + " exceed 2^31-1");
            }
        }
        if (bias != null && (bias.rank() != 1 || bias.size(0) != c.size(-1))) {
            throw new IllegalArgumentException("matmul: bias " + bias.shape() + " does not match N = " + c.size(-1));
        }
        if (!c.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("matmul: output dtype " + c.dtype() + " is not a floating type");
        }
    }

    private static boolean broadcastsTo(Tensor t, Tensor c) {
        int lead = c.rank() - t.rank();
        for (int d = 0; d < t.rank() - 2; d++) {
            long s = t.size(d);
            if (s != 1 && s != c.size(d + lead)) {
                return false;
            }
        }
        return true;
    }

    private static long[] concat(long[] batch, long rows, long cols) {
        long[] out = Arrays.copyOf(batch, batch.length + 2);
        out[batch.length] = rows;
        out[batch.length + 1] = cols;
        return out;
    }
}
