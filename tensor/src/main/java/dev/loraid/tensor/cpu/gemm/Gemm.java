package dev.loraid.tensor.cpu.gemm;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Precision;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.cpu.FloatRuns;

import java.util.Arrays;

/**
 * CPU matmul ({@link dev.loraid.tensor.Backend#matmul}): {@code c = alpha·(a @ b) + beta·c + bias} with
 * a [..., M, K], b [..., K, N], c [..., M, N], batch dimensions broadcast to c's. Checks the operands, lays the
 * batches out as strided matrices, and hands fp32 work to {@link BlockedGemm} (all-F64 work to
 * {@link GemmF64}). Picks the cheaper of {@code a·b} and {@code (bᵀ·aᵀ)ᵀ} for the operands' strides; an
 * output the kernel cannot write directly (see {@link #writesDirectly}, or no unit stride where needed) is computed
 * in an F32 temporary and copied back.
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
        if (Precision.fp64(a, b, c, bias)) {
            GemmF64.run(layout(ae, be, c), alpha, beta, bias);
            return;
        }
        Layout l = layout(ae, be, c);
        boolean writable = writesDirectly(c.dtype(), a.size(-1));
        boolean swap = transposedIsCheaper(l, writable);
        StridedMatrix target = swap ? l.c.transposed() : l.c;
        boolean direct = writable && (target.colStride() == 1 || target.cols() == 1);
        Tensor out = c;
        long mark = MemoryScope.mark();
        if (!direct) {
            long[] dims = c.shape().toArray();
            if (swap) {
                // the temporary is stored transposed, so that the swapped product writes it with unit stride
                dims[rank - 2] = c.size(-1);
                dims[rank - 1] = c.size(-2);
            }
            Tensor t = Tensor.empty(c.device(), DType.F32, dims);
            out = swap ? t.transpose(-2, -1) : t;
            if (beta != 0) {
                c.backend().copy(c, out);
            }
            l = layout(ae, be, out);
        }
        if (swap) {
            l = l.transposed();
        }
        BlockedGemm.run(new BlockedGemm.Problem(l.a, l.b, l.c, l.aOffsets, l.bOffsets, l.cOffsets, (float) alpha,
            (float) beta, floats(bias), swap));
        if (!direct) {
            c.backend().copy(out, c);
            // the fp32 temporary dies here: give it back now, or a step's scope holds one per product of a half output
            MemoryScope.release(out, mark);
        }
    }

    /**
     * {@code c = a · b + rowBias} with the right operand given panel by panel ({@link PanelSource}: an implicit GEMM,
     * e.g. a convolution's patches, never materialised): a [M, K] in any float dtype and strides, c [M, N] F32 with
     * unit column stride, rowBias null or [M] (one value per row of c, as a convolution's per-channel bias).
     */
    public static void matmul(Tensor a, PanelSource b, Tensor c, Tensor rowBias) {
        if (a.rank() != 2 || c.rank() != 2 || a.size(1) != b.rows() || c.size(0) != a.size(0) || c.size(1) != b.cols()) {
            throw new IllegalArgumentException("matmul: shapes do not chain: a " + a.shape() + " @ b [" + b.rows() + ", "
                + b.cols() + "] -> c " + c.shape());
        }
        if (c.dtype() != DType.F32 || c.stride(1) != 1 && c.size(1) > 1 || !a.dtype().isFloatingPoint()) {
            throw new IllegalArgumentException("matmul: an implicit right operand needs a float a and an F32 c with "
                + "unit column stride; got a " + a + ", c " + c);
        }
        if (rowBias != null && (rowBias.rank() != 1 || rowBias.size(0) != c.size(0))) {
            throw new IllegalArgumentException("matmul: row bias " + rowBias.shape() + " does not match M = " + c.size(0));
        }
        BlockedGemm.run(new BlockedGemm.Problem(matrix(a, Math.toIntExact(a.size(0)), a.stride(0)), b,
            matrix(c, Math.toIntExact(c.size(0)), c.stride(0)), new long[] {a.offset()}, new long[] {0}, new long[] {c.offset()},
            1f, 0f, floats(rowBias), true));
    }

    /**
     * Whether the kernel writes an output of {@code dtype} itself, for a product over {@code k}: F32 always; BF16 when
     * K is a single slice, so that each element is merged and rounded once ({@link TileWriter}), which gives the bits
     * of an fp32 result cast afterwards (a LoRA merge's rank-r update of a bf16 weight). Other outputs go through an
     * F32 temporary.
     */
    static boolean writesDirectly(DType dtype, long k) {
        return dtype == DType.F32 || dtype == DType.BF16 && k <= GemmTiling.KC;
    }

    /** A bias vector's values in fp32 for the kernel's epilogue, or null for none. */
    private static float[] floats(Tensor bias) {
        if (bias == null) {
            return null;
        }
        float[] values = new float[Math.toIntExact(bias.size(0))];
        FloatRuns.read(bias.storage().segment(), bias.dtype(), bias.offset(), bias.stride(0), values, 0, values.length);
        return values;
    }

    /**
     * Whether computing {@code cᵀ = bᵀ·aᵀ} moves fewer elements through the slow (transposing, scalar) paths
     * than {@code c = a·b}. The kernel wants its left operand contiguous along K, its right operand and the
     * output contiguous along their columns; e.g. a weight gradient {@code gᵀ·h} with g [4096, 1536] and
     * h [4096, 32] has neither operand so in the plain order, but both in the transposed one.
     */
    static boolean transposedIsCheaper(Layout l, boolean directOut) {
        StridedMatrix a = l.a;
        StridedMatrix b = l.b;
        StridedMatrix c = l.c;
        double m = a.rows();
        double k = a.cols();
        double n = b.cols();
        // the left operand is packed once per NC-wide column chunk of the output
        double plain = (unit(a.colStride(), a.cols()) ? 0 : m * k * Math.ceil(n / GemmTiling.NC))
            + (unit(b.colStride(), b.cols()) ? 0 : k * n)
            + (directOut && unit(c.colStride(), c.cols()) ? 0 : m * n);
        double swapped = (unit(b.rowStride(), b.rows()) ? 0 : n * k * Math.ceil(m / GemmTiling.NC))
            + (unit(a.rowStride(), a.rows()) ? 0 : k * m)
            + (directOut && unit(c.rowStride(), c.rows()) ? 0 : m * n);
        return swapped < plain;
    }

    private static boolean unit(long stride, int size) {
        return stride == 1 || size == 1;
    }

    /** The operands as one strided matrix each plus per-batch element offsets. */
    record Layout(StridedMatrix a, StridedMatrix b, StridedMatrix c, long[] aOffsets, long[] bOffsets,
                  long[] cOffsets) {
        /** The same product as {@code cᵀ = bᵀ·aᵀ}. */
        Layout transposed() {
            return new Layout(b.transposed(), a.transposed(), c.transposed(), bOffsets, aOffsets, cOffsets);
        }
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
            if (!t.dtype().isFloatingPoint()) {
                throw new IllegalArgumentException("matmul: operand dtype " + t.dtype() + " is not a floating type");
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
