package dev.loraid.tensor.cpu;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.Tensor;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.loraid.tensor.cpu.Lanes.F;
import static dev.loraid.tensor.cpu.Lanes.VL;

/**
 * Reductions over any set of dimensions (keepdim). x is walked in its own memory order against an accumulator
 * indexed by output element (stride 0 along reduced dimensions), so reducing leading dimensions (a bias gradient)
 * streams through memory just like reducing the last one. A run along a reduced dimension is reduced in fp32
 * vector lanes (fp64 for F64) and folded into fp64 accumulators. Threads split a kept dimension (disjoint outputs)
 * or, when every kept dimension is small, a reduced one (private accumulators combined at the end).
 */
final class Reductions {
    private static final long SERIAL_BELOW = 1L << 15;

    private Reductions() {
    }

    static void reduce(ReduceOp op, Tensor x, int[] dims, Tensor out) {
        int rank = x.rank();
        boolean[] reduced = new boolean[rank];
        for (int d : dims) {
            reduced[x.shape().normalize(d)] = true;
        }
        long[] xs = x.shape().toArray();
        long[] expect = xs.clone();
        long count = 1;
        for (int d = 0; d < rank; d++) {
            if (reduced[d]) {
                expect[d] = 1;
                count *= xs[d];
            }
        }
        if (!Arrays.equals(expect, out.shape().toArray())) {
            throw new IllegalArgumentException("reduce " + op + " of " + x.shape() + " over " + Arrays.toString(dims)
                + ": out has shape " + out.shape() + ", expected " + Arrays.toString(expect));
        }
        int m = Math.toIntExact(out.numel());
        long[] accStrides = out.shape().contiguousStrides();
        for (int d = 0; d < rank; d++) {
            if (reduced[d]) {
                accStrides[d] = 0;
            }
        }
        // split dimension: the largest kept one if it can feed every thread, else the largest reduced one
        int split = -1;
        for (int d = 0; d < rank; d++) {
            if (!reduced[d] && xs[d] >= Parallel.threads() && (split < 0 || xs[d] > xs[split])) {
                split = d;
            }
        }
        boolean splitKept = split >= 0;
        if (!splitKept) {
            for (int d = 0; d < rank; d++) {
                if (reduced[d] && (split < 0 || xs[d] > xs[split])) {
                    split = d;
                }
            }
        }
        int tasks = x.numel() < SERIAL_BELOW || split < 0 ? 1 : (int) Math.min(xs[split], Parallel.threads() * 2L);
        double[][] acc = new double[splitKept ? 1 : tasks][];
        for (int t = 0; t < acc.length; t++) {
            acc[t] = new double[m];
            Arrays.fill(acc[t], identity(op));
        }
        int sd = split;
        Parallel.forEach(tasks, t -> {
            long[] shape = xs.clone();
            long xOff = x.offset();
            long aOff = 0;
            if (tasks > 1) {
                long from = xs[sd] * t / tasks;
                long to = xs[sd] * (t + 1) / tasks;
                shape[sd] = to - from;
                xOff += from * x.stride(sd);
                aOff += from * accStrides[sd];
            }
            double[] a = acc[splitKept ? 0 : t];
            StridedLoop.of(shape, new long[][] {x.strides(), accStrides}, new long[] {xOff, aOff})
                .forEachRun(1, false, (base, stride, n) -> accumulate(op, x, base, stride, n, a));
        });
        double[] total = acc[0];
        for (int t = 1; t < acc.length; t++) {
            for (int i = 0; i < m; i++) {
                total[i] = combine(op, total[i], acc[t][i]);
            }
        }
        if (op == ReduceOp.MEAN) {
            for (int i = 0; i < m; i++) {
                total[i] /= count;
            }
        }
        StridedCopy.copy(Tensor.ofDoubles(total, out.shape().toArray()), out);
    }

    private static double identity(ReduceOp op) {
        return switch (op) {
            case SUM, MEAN, SUM_SQUARES -> 0;
            case MAX -> Double.NEGATIVE_INFINITY;
            case MIN -> Double.POSITIVE_INFINITY;
        };
    }

    private static double combine(ReduceOp op, double acc, double v) {
        return switch (op) {
            case SUM, MEAN, SUM_SQUARES -> acc + v;
            case MAX -> Math.max(acc, v);
            case MIN -> Math.min(acc, v);
        };
    }

    /** Folds n elements of x (from base[0], stride[0]) into acc (from base[1], stride[1]). */
    private static void accumulate(ReduceOp op, Tensor x, long[] base, long[] stride, int n, double[] acc) {
        MemorySegment seg = x.storage().segment();
        int ai = (int) base[1];
        if (x.dtype() == DType.F64) {
            double[] buf = CpuScratch.doubles(0, n);
            Lanes.load(seg, DType.F64, base[0], stride[0], buf, 0, n);
            for (int i = 0; i < n; i++) {
                int k = ai + (int) (i * stride[1]);
                acc[k] = combine(op, acc[k], op == ReduceOp.SUM_SQUARES ? buf[i] * buf[i] : buf[i]);
            }
            return;
        }
        int p = Lanes.padded(n);
        float[] buf = CpuScratch.floats(0, p);
        Lanes.load(seg, x.dtype(), base[0], stride[0], buf, 0, n);
        if (stride[1] == 0) {
            Arrays.fill(buf, n, p, (float) identity(op));
            acc[ai] = combine(op, acc[ai], reduceRun(op, buf, p));
        } else if (stride[1] == 1 && (op == ReduceOp.SUM || op == ReduceOp.MEAN)) {
            for (int i = 0; i < n; i++) { // a run along a kept dimension: the common broadcast-gradient case
                acc[ai + i] += buf[i];
            }
        } else {
            for (int i = 0; i < n; i++) {
                int k = ai + (int) (i * stride[1]);
                acc[k] = combine(op, acc[k], op == ReduceOp.SUM_SQUARES ? (double) buf[i] * buf[i] : buf[i]);
            }
        }
    }

    /** Reduces a padded buffer (padding holds the identity) in fp32 vector lanes. */
    private static double reduceRun(ReduceOp op, float[] buf, int p) {
        FloatVector acc = FloatVector.broadcast(F, (float) identity(op));
        switch (op) {
            case SUM, MEAN -> { for (int i = 0; i < p; i += VL) acc = acc.add(FloatVector.fromArray(F, buf, i)); }
            case SUM_SQUARES -> {
                for (int i = 0; i < p; i += VL) {
                    FloatVector v = FloatVector.fromArray(F, buf, i);
                    acc = v.fma(v, acc);
                }
            }
            case MAX -> { for (int i = 0; i < p; i += VL) acc = acc.max(FloatVector.fromArray(F, buf, i)); }
            case MIN -> { for (int i = 0; i < p; i += VL) acc = acc.min(FloatVector.fromArray(F, buf, i)); }
        }
        return switch (op) {
            case SUM, MEAN, SUM_SQUARES -> VecMath.sumLanes(acc);
            case MAX -> acc.reduceLanes(jdk.incubator.vector.VectorOperators.MAX);
            case MIN -> acc.reduceLanes(jdk.incubator.vector.VectorOperators.MIN);
        };
    }
}
