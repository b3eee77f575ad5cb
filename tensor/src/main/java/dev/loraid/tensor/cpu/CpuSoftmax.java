package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Precision;
import dev.loraid.tensor.Tensor;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.loraid.tensor.cpu.Lanes.F;
import static dev.loraid.tensor.cpu.Lanes.VL;

/** Softmax over the last dimension and its backward, one row at a time: fp32 vector lanes, or fp64 for F64. */
final class CpuSoftmax {
    private CpuSoftmax() {
    }

    /** {@code out = exp(x − max) / Σ exp(x − max)} per row. */
    static void forward(Tensor x, Tensor out) {
        Checks.sameShape(x, out, "softmax out");
        int d = (int) x.size(-1);
        int p = Lanes.padded(d);
        MemorySegment xs = x.storage().segment();
        MemorySegment os = out.storage().segment();
        long sx = x.stride(-1);
        long so = out.stride(-1);
        if (Precision.fp64(x, out)) {
            Rows.of(x, out).forEach((r, b) -> {
                double[] v = CpuScratch.doubles(0, d);
                Lanes.load(xs, x.dtype(), b[0], sx, v, 0, d);
                double max = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < d; i++) {
                    max = Math.max(max, v[i]);
                }
                double sum = 0;
                for (int i = 0; i < d; i++) {
                    v[i] = Math.exp(v[i] - max);
                    sum += v[i];
                }
                for (int i = 0; i < d; i++) {
                    v[i] /= sum;
                }
                Lanes.store(v, 0, d, os, out.dtype(), b[1], so);
            });
            return;
        }
        Rows.of(x, out).forEach((r, b) -> {
            float[] v = CpuScratch.floats(0, p);
            Lanes.load(xs, x.dtype(), b[0], sx, v, 0, d);
            Arrays.fill(v, d, p, Float.NEGATIVE_INFINITY);
            float max = VecMath.max(v, p);
            FloatVector sum = FloatVector.zero(F);
            for (int i = 0; i < p; i += VL) {
                FloatVector e = VecMath.exp(FloatVector.fromArray(F, v, i).sub(max));
                e.intoArray(v, i);
                sum = sum.add(e);
            }
            float inv = 1f / VecMath.sumLanes(sum);
            for (int i = 0; i < p; i += VL) {
                FloatVector.fromArray(F, v, i).mul(inv).intoArray(v, i);
            }
            Lanes.store(v, 0, d, os, out.dtype(), b[1], so);
        });
    }

    /** {@code dx = y · (dy − Σ dy·y)} per row. */
    static void backward(Tensor y, Tensor dy, Tensor dx) {
        Checks.sameShape(y, dy, "softmax backward dy");
        Checks.sameShape(y, dx, "softmax backward dx");
        int d = (int) y.size(-1);
        int p = Lanes.padded(d);
        MemorySegment ys = y.storage().segment();
        MemorySegment gs = dy.storage().segment();
        MemorySegment xs = dx.storage().segment();
        long sy = y.stride(-1);
        long sg = dy.stride(-1);
        long sx = dx.stride(-1);
        if (Precision.fp64(y, dy, dx)) {
            Rows.of(y, dy, dx).forEach((r, b) -> {
                double[] yv = CpuScratch.doubles(0, d);
                double[] gv = CpuScratch.doubles(1, d);
                Lanes.load(ys, y.dtype(), b[0], sy, yv, 0, d);
                Lanes.load(gs, dy.dtype(), b[1], sg, gv, 0, d);
                double dot = 0;
                for (int i = 0; i < d; i++) {
                    dot += yv[i] * gv[i];
                }
                for (int i = 0; i < d; i++) {
                    gv[i] = yv[i] * (gv[i] - dot);
                }
                Lanes.store(gv, 0, d, xs, dx.dtype(), b[2], sx);
            });
            return;
        }
        Rows.of(y, dy, dx).forEach((r, b) -> {
            float[] yv = CpuScratch.floats(0, p);
            float[] gv = CpuScratch.floats(1, p);
            Lanes.load(ys, y.dtype(), b[0], sy, yv, 0, d);
            Lanes.load(gs, dy.dtype(), b[1], sg, gv, 0, d);
            Arrays.fill(yv, d, p, 0f);
            Arrays.fill(gv, d, p, 0f);
            float dot = VecMath.dot(yv, gv, p);
            for (int i = 0; i < p; i += VL) {
                FloatVector g = FloatVector.fromArray(F, gv, i).sub(dot);
                g.mul(FloatVector.fromArray(F, yv, i)).intoArray(gv, i);
            }
            Lanes.store(gv, 0, d, xs, dx.dtype(), b[2], sx);
        });
    }
}
