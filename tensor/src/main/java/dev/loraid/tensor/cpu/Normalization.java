package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Precision;
import dev.loraid.tensor.Tensor;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.loraid.tensor.cpu.Lanes.F;
import static dev.loraid.tensor.cpu.Lanes.VL;

/**
 * LayerNorm and RMSNorm over the last dimension, forward and backward. They are one kernel: RMSNorm is LayerNorm
 * without centring and without bias ({@code centered = false}). Per row, with x̂ = (x − mean)·rstd:
 * <pre>
 *   forward:  out = x̂·w + b,   rstd = 1/sqrt(mean((x − mean)²) + eps)      (mean = 0 when not centred)
 *   backward: g = dy·w;  dx = rstd·(g − mean(g) − x̂·mean(g·x̂));  dw = Σ_rows dy·x̂;  db = Σ_rows dy
 * </pre>
 * (the mean(g) term only when centred). fp32 vector lanes; fp64 when x, dy and the outputs are all F64.
 */
final class Normalization {
    private Normalization() {
    }

    static void forward(boolean centered, Tensor x, Tensor weight, Tensor bias, double eps, Tensor out,
                        Tensor mean, Tensor rstd) {
        Checks.sameShape(x, out, "norm out");
        int d = (int) x.size(-1);
        int p = Lanes.padded(d);
        Rows rows = Rows.of(x, out);
        long n = rows.count();
        Tensor meanRows = mean == null ? null : Rows.perRow(mean, n, "mean");
        Tensor rstdRows = rstd == null ? null : Rows.perRow(rstd, n, "rstd");
        MemorySegment xs = x.storage().segment();
        MemorySegment os = out.storage().segment();
        long sx = x.stride(-1);
        long so = out.stride(-1);
        if (Precision.fp64(x, weight, bias, out)) {
            double[] w = Checks.vectorD(weight, d, "weight");
            double[] bb = Checks.vectorD(bias, d, "bias");
            rows.forEach((r, b) -> {
                double[] v = CpuScratch.doubles(0, d);
                Lanes.load(xs, x.dtype(), b[0], sx, v, 0, d);
                double mu = 0;
                if (centered) {
                    for (int i = 0; i < d; i++) {
                        mu += v[i];
                    }
                    mu /= d;
                }
                double ss = 0;
                for (int i = 0; i < d; i++) {
                    v[i] -= mu;
                    ss += v[i] * v[i];
                }
                double rs = 1.0 / Math.sqrt(ss / d + eps);
                for (int i = 0; i < d; i++) {
                    v[i] = v[i] * rs * (w == null ? 1 : w[i]) + (bb == null ? 0 : bb[i]);
                }
                Lanes.store(v, 0, d, os, out.dtype(), b[1], so);
                writeStats(meanRows, rstdRows, r, mu, rs);
            });
            return;
        }
        float[] w = Checks.vectorF(weight, d, "weight", p);
        float[] bb = Checks.vectorF(bias, d, "bias", p);
        float fe = (float) eps;
        rows.forEach((r, b) -> {
            float[] v = CpuScratch.floats(0, p);
            Lanes.load(xs, x.dtype(), b[0], sx, v, 0, d);
            java.util.Arrays.fill(v, d, p, 0f);
            float mu = centered ? VecMath.sum(v, p) / d : 0f;
            for (int i = 0; i < p; i += VL) {
                FloatVector.fromArray(F, v, i).sub(mu).intoArray(v, i);
            }
            java.util.Arrays.fill(v, d, p, 0f);
            float rs = (float) (1.0 / Math.sqrt(VecMath.dot(v, v, p) / d + fe));
            for (int i = 0; i < p; i += VL) {
                FloatVector y = FloatVector.fromArray(F, v, i).mul(rs);
                if (w != null) {
                    y = y.mul(FloatVector.fromArray(F, w, i));
                }
                if (bb != null) {
                    y = y.add(FloatVector.fromArray(F, bb, i));
                }
                y.intoArray(v, i);
            }
            Lanes.store(v, 0, d, os, out.dtype(), b[1], so);
            writeStats(meanRows, rstdRows, r, mu, rs);
        });
    }

    static void backward(boolean centered, Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dOut,
                         Tensor dx, Tensor dWeight, Tensor dBias) {
        Checks.sameShape(x, dOut, "norm backward dOut");
        Checks.sameShape(x, dx, "norm backward dx");
        int d = (int) x.size(-1);
        int p = Lanes.padded(d);
        Rows rows = Rows.of(x, dOut, dx);
        long n = rows.count();
        if (rstd == null || (centered && mean == null)) {
            throw new IllegalArgumentException("norm backward needs the forward's " + (rstd == null ? "rstd" : "mean"));
        }
        Tensor meanRows = centered ? Rows.perRow(mean, n, "mean") : null;
        Tensor rstdRows = Rows.perRow(rstd, n, "rstd");
        MemorySegment xs = x.storage().segment();
        MemorySegment gs = dOut.storage().segment();
        MemorySegment ds = dx.storage().segment();
        long sx = x.stride(-1);
        long sg = dOut.stride(-1);
        long sd = dx.stride(-1);
        int chunks = rows.chunks();
        if (Precision.fp64(x, weight, dOut, dx, dWeight, dBias)) {
            double[] w = Checks.vectorD(weight, d, "weight");
            double[][] dw = new double[chunks][d];
            double[][] db = new double[chunks][d];
            Parallel.forEach(chunks, c -> rows.forChunk(c, chunks, (r, b) -> {
                double[] v = CpuScratch.doubles(0, d);
                double[] g = CpuScratch.doubles(1, d);
                Lanes.load(xs, x.dtype(), b[0], sx, v, 0, d);
                Lanes.load(gs, dOut.dtype(), b[1], sg, g, 0, d);
                double mu = centered ? read(meanRows, r) : 0;
                double rs = read(rstdRows, r);
                double sumG = 0;
                double sumGx = 0;
                for (int i = 0; i < d; i++) {
                    v[i] = (v[i] - mu) * rs;
                    db[c][i] += g[i];
                    dw[c][i] += g[i] * v[i];
                    g[i] *= w == null ? 1 : w[i];
                    sumG += g[i];
                    sumGx += g[i] * v[i];
                }
                double a = centered ? sumG / d : 0;
                double bt = sumGx / d;
                for (int i = 0; i < d; i++) {
                    g[i] = rs * (g[i] - a - v[i] * bt);
                }
                Lanes.store(g, 0, d, ds, dx.dtype(), b[2], sd);
            }));
            storeColumnSums(dw, dWeight, "dWeight");
            storeColumnSums(db, dBias, "dBias");
            return;
        }
        float[] w = Checks.vectorF(weight, d, "weight", p);
        float[][] dw = new float[chunks][p];
        float[][] db = new float[chunks][p];
        Parallel.forEach(chunks, c -> rows.forChunk(c, chunks, (r, b) -> {
            float[] v = CpuScratch.floats(0, p);
            float[] g = CpuScratch.floats(1, p);
            Lanes.load(xs, x.dtype(), b[0], sx, v, 0, d);
            Lanes.load(gs, dOut.dtype(), b[1], sg, g, 0, d);
            java.util.Arrays.fill(v, d, p, 0f);
            java.util.Arrays.fill(g, d, p, 0f);
            float mu = centered ? (float) read(meanRows, r) : 0f;
            float rs = (float) read(rstdRows, r);
            FloatVector sumG = FloatVector.zero(F);
            FloatVector sumGx = FloatVector.zero(F);
            for (int i = 0; i < p; i += VL) {
                FloatVector xh = FloatVector.fromArray(F, v, i).sub(mu).mul(rs);
                FloatVector gv = FloatVector.fromArray(F, g, i);
                gv.add(FloatVector.fromArray(F, db[c], i)).intoArray(db[c], i);
                gv.fma(xh, FloatVector.fromArray(F, dw[c], i)).intoArray(dw[c], i);
                if (w != null) {
                    gv = gv.mul(FloatVector.fromArray(F, w, i));
                }
                sumG = sumG.add(gv);
                sumGx = gv.fma(xh, sumGx);
                xh.intoArray(v, i);
                gv.intoArray(g, i);
            }
            float a = centered ? VecMath.sumLanes(sumG) / d : 0f;
            float bt = VecMath.sumLanes(sumGx) / d;
            for (int i = 0; i < p; i += VL) {
                FloatVector gv = FloatVector.fromArray(F, g, i).sub(a);
                gv.sub(FloatVector.fromArray(F, v, i).mul(bt)).mul(rs).intoArray(g, i);
            }
            Lanes.store(g, 0, d, ds, dx.dtype(), b[2], sd);
        }));
        storeColumnSums(dw, d, dWeight, "dWeight");
        storeColumnSums(db, d, dBias, "dBias");
    }

    private static void writeStats(Tensor meanRows, Tensor rstdRows, long r, double mu, double rs) {
        if (meanRows != null) {
            meanRows.setDouble(mu, r);
        }
        if (rstdRows != null) {
            rstdRows.setDouble(rs, r);
        }
    }

    private static double read(Tensor perRow, long r) {
        return perRow.getDouble(r);
    }

    private static void storeColumnSums(double[][] partial, Tensor out, String what) {
        if (out == null) {
            return;
        }
        int d = partial[0].length;
        Checks.shape(out, what, d);
        double[] total = new double[d];
        for (double[] row : partial) {
            for (int i = 0; i < d; i++) {
                total[i] += row[i];
            }
        }
        Lanes.store(total, 0, d, out.storage().segment(), out.dtype(), out.offset(), out.stride(0));
    }

    private static void storeColumnSums(float[][] partial, int d, Tensor out, String what) {
        if (out == null) {
            return;
        }
        double[][] wide = new double[partial.length][d];
        for (int c = 0; c < partial.length; c++) {
            for (int i = 0; i < d; i++) {
                wide[c][i] = partial[c][i];
            }
        }
        storeColumnSums(wide, out, what);
    }
}
