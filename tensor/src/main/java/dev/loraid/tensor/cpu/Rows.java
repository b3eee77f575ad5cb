package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Tensor;

import java.util.Arrays;

/**
 * Row addressing for "last dimension" kernels (norms, softmax, rope): every leading index of the operands is one
 * independent row. Operands share the leading shape; each keeps its own strides, last-dimension stride included.
 */
final class Rows {
    private static final long GRAIN = 1L << 15;

    @FunctionalInterface
    interface RowKernel {
        /** {@code base[k]}: element offset of operand k's row; {@code row}: the row's row-major index. */
        void row(long row, long[] base);
    }

    private final long[] lead;
    private final long[][] strides;
    private final long[] offsets;
    private final long rows;
    private final long rowLength;

    private Rows(long[] lead, long[][] strides, long[] offsets, long rowLength) {
        this.lead = lead;
        this.strides = strides;
        this.offsets = offsets;
        long n = 1;
        for (long d : lead) {
            n *= d;
        }
        this.rows = n;
        this.rowLength = rowLength;
    }

    static Rows of(Tensor... operands) {
        long[] shape = operands[0].shape().toArray();
        if (shape.length == 0) {
            throw new IllegalArgumentException("a row kernel needs at least one dimension, got a scalar");
        }
        long[] lead = Arrays.copyOf(shape, shape.length - 1);
        long[][] st = new long[operands.length][];
        long[] off = new long[operands.length];
        for (int k = 0; k < operands.length; k++) {
            long[] s = operands[k].shape().toArray();
            if (s.length != shape.length || !Arrays.equals(Arrays.copyOf(s, s.length - 1), lead)) {
                throw new IllegalArgumentException("operand " + k + " has shape " + operands[k].shape()
                    + ", expected leading dimensions " + Arrays.toString(lead));
            }
            st[k] = operands[k].strides();
            off[k] = operands[k].offset();
        }
        return new Rows(lead, st, off, shape[shape.length - 1]);
    }

    long count() {
        return rows;
    }

    /** Element offsets of row {@code row} in every operand. */
    void bases(long row, long[] out) {
        for (int k = 0; k < offsets.length; k++) {
            out[k] = offsets[k];
        }
        long r = row;
        for (int d = lead.length - 1; d >= 0 && r > 0; d--) {
            long i = r % lead[d];
            r /= lead[d];
            for (int k = 0; k < offsets.length; k++) {
                out[k] += i * strides[k][d];
            }
        }
    }

    /** How many parallel chunks the rows are worth (1 for small work). */
    int chunks() {
        long work = rows * Math.max(1, rowLength);
        return (int) Math.max(1, Math.min(Math.min(rows, Parallel.threads() * 4L), work / GRAIN));
    }

    /** Runs the rows of chunk {@code c} (of {@code chunks}) on the calling thread. */
    void forChunk(int c, int chunks, RowKernel kernel) {
        long[] b = new long[offsets.length];
        for (long r = rows * c / chunks, end = rows * (c + 1) / chunks; r < end; r++) {
            bases(r, b);
            kernel.row(r, b);
        }
    }

    /** Calls {@code kernel} once per row, rows spread over threads. */
    void forEach(RowKernel kernel) {
        int chunks = chunks();
        Parallel.forEach(chunks, c -> forChunk(c, chunks, kernel));
    }

    /**
     * A [rows] side tensor (mean, rstd, lse) viewed as one element per row; its element offset for row r is
     * {@code offset + r·stride}. Throws naming the tensor if it does not hold exactly one value per row.
     */
    static Tensor perRow(Tensor t, long rows, String what) {
        if (t.numel() != rows) {
            throw new IllegalArgumentException(what + " has shape " + t.shape() + ", expected " + rows + " values (one per row)");
        }
        return t.view(rows);
    }
}
