package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Tensor;

import java.util.Arrays;

/**
 * Walks several operands of one shape (each with its own strides and offset) as runs along the innermost
 * dimension, in parallel. Dimensions of size 1 are dropped and neighbouring dimensions merged wherever every
 * operand allows it, so a contiguous tensor is one long run and a broadcast operand has inner stride 0.
 * Long runs are cut into pieces of at most {@link #PIECE} elements so kernels can use fixed-size buffers.
 */
final class StridedLoop {
    /** Longest run handed to a kernel. A multiple of every vector length. */
    static final int PIECE = 2048;
    /** Work (in elements, or element-equivalents for row kernels) below which splitting across threads costs more than it saves. */
    private static final long GRAIN = 1L << 15;

    /** A run of {@code n} elements: operand k's elements are at {@code base[k] + i·stride[k]}, i in [0, n). */
    @FunctionalInterface
    interface RunKernel {
        void run(long[] base, long[] stride, int n);
    }

    private final long[] dims;        // collapsed, the last one is the run dimension
    private final long[][] strides;   // [operand][dim]
    private final long[] offsets;

    private StridedLoop(long[] dims, long[][] strides, long[] offsets) {
        this.dims = dims;
        this.strides = strides;
        this.offsets = offsets;
    }

    /** Operands must all have shape {@code shape} (expand broadcast inputs first). */
    static StridedLoop of(long[] shape, Tensor... operands) {
        int ops = operands.length;
        long[][] st = new long[ops][];
        long[] off = new long[ops];
        for (int k = 0; k < ops; k++) {
            if (!Arrays.equals(operands[k].shape().toArray(), shape)) {
                throw new IllegalArgumentException("operand " + k + " has shape " + operands[k].shape()
                    + ", expected " + Arrays.toString(shape));
            }
            st[k] = operands[k].strides();
            off[k] = operands[k].offset();
        }
        return of(shape, st, off);
    }

    /** Operand k has strides {@code st[k]} (over {@code shape}) and offset {@code off[k]}, in elements. */
    static StridedLoop of(long[] shape, long[][] st, long[] off) {
        int ops = st.length;
        // drop size-1 dims, then merge dim i into i+1 when every operand is contiguous across the pair
        long[] d = new long[shape.length];
        long[][] s = new long[ops][shape.length];
        int r = 0;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 1) {
                continue;
            }
            boolean merge = r > 0;
            for (int k = 0; k < ops && merge; k++) {
                merge = s[k][r - 1] == st[k][i] * shape[i];
            }
            if (merge) {
                d[r - 1] *= shape[i];
                for (int k = 0; k < ops; k++) {
                    s[k][r - 1] = st[k][i];
                }
            } else {
                d[r] = shape[i];
                for (int k = 0; k < ops; k++) {
                    s[k][r] = st[k][i];
                }
                r++;
            }
        }
        if (r == 0) {
            r = 1;
            if (shape.length == 0) {
                d = new long[] {1};
                s = new long[ops][1];
            }
            d[0] = 1;
        }
        long[] dims = Arrays.copyOf(d, r);
        for (int k = 0; k < ops; k++) {
            s[k] = Arrays.copyOf(s[k], r);
        }
        return new StridedLoop(dims, s, off);
    }

    long count() {
        long n = 1;
        for (long x : dims) {
            n *= x;
        }
        return n;
    }

    /**
     * Runs {@code kernel} over every element; {@code costPerElement} (≥ 1) scales the work estimate that decides
     * how many threads to use (row kernels pass their row length).
     */
    void forEachRun(long costPerElement, RunKernel kernel) {
        forEachRun(costPerElement, true, kernel);
    }

    /** As {@link #forEachRun(long, RunKernel)}, on the calling thread only when {@code parallel} is false. */
    void forEachRun(long costPerElement, boolean parallel, RunKernel kernel) {
        int rank = dims.length;
        int ops = offsets.length;
        long inner = dims[rank - 1];
        long piecesPerRun = (inner + PIECE - 1) / PIECE;
        long outer = count() / Math.max(inner, 1);
        long pieces = outer * piecesPerRun;
        if (pieces == 0 || inner == 0) {
            return;
        }
        long work = count() * Math.max(1, costPerElement);
        int chunks = !parallel ? 1
            : (int) Math.min(Math.min(pieces, (long) Parallel.threads() * 4), Math.max(1, work / GRAIN));
        long[] innerStride = new long[ops];
        for (int k = 0; k < ops; k++) {
            innerStride[k] = strides[k][rank - 1];
        }
        Parallel.forEach(chunks, c -> {
            long from = pieces * c / chunks;
            long to = pieces * (c + 1) / chunks;
            long[] base = new long[ops];
            long[] stride = innerStride.clone();
            for (long p = from; p < to; p++) {
                long o = p / piecesPerRun;
                long start = (p % piecesPerRun) * PIECE;
                int n = (int) Math.min(PIECE, inner - start);
                for (int k = 0; k < ops; k++) {
                    base[k] = offsets[k] + start * innerStride[k];
                }
                for (int dd = rank - 2; dd >= 0 && o > 0; dd--) {
                    long i = o % dims[dd];
                    o /= dims[dd];
                    for (int k = 0; k < ops; k++) {
                        base[k] += i * strides[k][dd];
                    }
                }
                kernel.run(base, stride, n);
            }
        });
    }
}
