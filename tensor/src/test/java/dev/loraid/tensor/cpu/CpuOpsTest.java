package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;
import dev.loraid.tensor.cpu.TestTensors.Layout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static dev.loraid.tensor.cpu.TestTensors.assertClose;
import static dev.loraid.tensor.cpu.TestTensors.random;
import static dev.loraid.tensor.cpu.TestTensors.tolerance;

/**
 * The op table (ggml test-backend-ops style): every kernel declared once with odd shapes, run for each dtype and
 * memory layout (inputs and outputs alike), and compared with the fp64 twin in {@link Reference}.
 */
class CpuOpsTest {
    private static final Backend CPU = new CpuBackend();

    @FunctionalInterface
    interface OpCheck {
        void check(Random rnd, DType dtype, Layout layout);
    }

    private static final Map<String, OpCheck> OPS = new LinkedHashMap<>();

    static {
        for (UnaryOp op : UnaryOp.values()) {
            OPS.put("unary " + op, (rnd, dt, lay) -> unary(op, rnd, dt, lay));
            OPS.put("unaryBackward " + op, (rnd, dt, lay) -> unaryBackward(op, rnd, dt, lay));
        }
        for (BinaryOp op : BinaryOp.values()) {
            OPS.put("binary " + op, (rnd, dt, lay) -> binary(op, rnd, dt, lay));
        }
        OPS.put("binaryScalar", CpuOpsTest::binaryScalar);
        OPS.put("addScaled", CpuOpsTest::addScaled);
        OPS.put("copy", CpuOpsTest::copy);
        OPS.put("copy broadcast", CpuOpsTest::copyBroadcast);
        OPS.put("copy transpose", CpuOpsTest::copyTranspose);
        OPS.put("fill", CpuOpsTest::fill);
        for (ReduceOp op : ReduceOp.values()) {
            OPS.put("reduce " + op, (rnd, dt, lay) -> reduce(op, rnd, dt, lay));
        }
        OPS.put("softmax", CpuOpsTest::softmax);
        OPS.put("softmaxBackward", CpuOpsTest::softmaxBackward);
        OPS.put("layerNorm affine", (rnd, dt, lay) -> norm(true, true, rnd, dt, lay));
        OPS.put("layerNorm plain", (rnd, dt, lay) -> norm(true, false, rnd, dt, lay));
        OPS.put("rmsNorm", (rnd, dt, lay) -> norm(false, true, rnd, dt, lay));
        OPS.put("rope", (rnd, dt, lay) -> rope(false, rnd, dt, lay));
        OPS.put("rope inverse", (rnd, dt, lay) -> rope(true, rnd, dt, lay));
        OPS.put("gatherRows", CpuOpsTest::gatherRows);
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String name : OPS.keySet()) {
            for (DType dt : new DType[] {DType.F32, DType.F64, DType.BF16}) {
                for (Layout lay : Layout.values()) {
                    out.add(Arguments.of(name, dt, lay));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cases")
    void matchesReference(String name, DType dtype, Layout layout) {
        OPS.get(name).check(new Random(name.hashCode() * 31L + dtype.ordinal() * 7L + layout.ordinal()), dtype, layout);
    }

    // ---- elementwise ----

    /** Inputs inside every op's domain: positive and away from 0 for log/sqrt/rsqrt/reciprocal. */
    private static Tensor unaryInput(UnaryOp op, Random rnd, DType dt, Layout lay, long... shape) {
        boolean positive = switch (op) {
            case LOG, SQRT, RSQRT, RECIPROCAL -> true;
            default -> false;
        };
        Tensor x = random(rnd, dt, lay, positive ? 0.3 : 2, positive ? 1.5 : 0, shape);
        if (positive) {
            CPU.unary(UnaryOp.ABS, x, x);
        }
        return x;
    }

    private static void unary(UnaryOp op, Random rnd, DType dt, Layout lay) {
        long[] shape = {3, 17, 130};
        Tensor x = unaryInput(op, rnd, dt, lay, shape);
        Tensor out = TestTensors.empty(dt, lay, shape);
        CPU.unary(op, x, out);
        double[] xs = x.toDoubleArray();
        double[] expect = new double[xs.length];
        for (int i = 0; i < xs.length; i++) {
            expect[i] = op.apply(xs[i]);
        }
        assertClose("unary " + op, expect, out.toDoubleArray(), tolerance(dt) * 4);
    }

    private static void unaryBackward(UnaryOp op, Random rnd, DType dt, Layout lay) {
        long[] shape = {5, 33};
        Tensor x = unaryInput(op, rnd, dt, lay, shape);
        Tensor dy = random(rnd, dt, Layout.CONTIGUOUS, shape);
        Tensor dx = TestTensors.empty(dt, lay, shape);
        CPU.unaryBackward(op, x, dy, dx);
        double[] xs = x.toDoubleArray();
        double[] gs = dy.toDoubleArray();
        double[] expect = new double[xs.length];
        for (int i = 0; i < xs.length; i++) {
            expect[i] = gs[i] * op.derivative(xs[i]);
        }
        assertClose("unaryBackward " + op, expect, dx.toDoubleArray(), tolerance(dt) * 8);
    }

    private static void binary(BinaryOp op, Random rnd, DType dt, Layout lay) {
        long[] outShape = {3, 5, 537}; // runs of more than two work blocks (Elementwise.BLOCK)
        long[] aShape = {3, 1, 537};
        long[] bShape = {5, 537};
        Tensor a = random(rnd, dt, lay, aShape);
        Tensor b = random(rnd, dt, Layout.CONTIGUOUS, bShape);
        if (op == BinaryOp.POW) {
            CPU.unary(UnaryOp.ABS, a, a);
        }
        if (op == BinaryOp.DIV) {
            CPU.binaryScalar(BinaryOp.ADD, b.contiguous(), 0, b);
            CPU.unary(UnaryOp.EXP, b, b); // keep divisors away from 0
        }
        Tensor out = TestTensors.empty(dt, lay, outShape);
        CPU.binary(op, a, b, out);
        double[] as = a.toDoubleArray();
        double[] bs = b.toDoubleArray();
        double[] expect = new double[(int) Reference.numel(outShape)];
        for (int i = 0; i < expect.length; i++) {
            expect[i] = op.apply(as[Reference.broadcastIndex(outShape, aShape, i)], bs[Reference.broadcastIndex(outShape, bShape, i)]);
        }
        assertClose("binary " + op, expect, out.toDoubleArray(), tolerance(dt) * 2);
    }

    private static void binaryScalar(Random rnd, DType dt, Layout lay) {
        Tensor a = random(rnd, dt, lay, 7, 529);
        Tensor out = TestTensors.empty(dt, lay, 7, 529);
        CPU.binaryScalar(BinaryOp.SUB, a, 0.75, out);
        double[] as = a.toDoubleArray();
        for (int i = 0; i < as.length; i++) {
            as[i] -= 0.75;
        }
        assertClose("binaryScalar", as, out.toDoubleArray(), tolerance(dt));
    }

    private static void addScaled(Random rnd, DType dt, Layout lay) {
        long[] outShape = {4, 3, 537};
        Tensor a = random(rnd, dt, lay, outShape);
        Tensor b = random(rnd, dt, Layout.CONTIGUOUS, 3, 1);
        Tensor out = TestTensors.empty(dt, lay, outShape);
        CPU.addScaled(a, 0.5, b, -2.0, out);
        double[] as = a.toDoubleArray();
        double[] bs = b.toDoubleArray();
        double[] expect = new double[as.length];
        for (int i = 0; i < expect.length; i++) {
            expect[i] = as[i] * 0.5 - 2.0 * bs[Reference.broadcastIndex(outShape, new long[] {3, 1}, i)];
        }
        assertClose("addScaled", expect, out.toDoubleArray(), tolerance(dt) * 2);
    }

    private static void copy(Random rnd, DType dt, Layout lay) {
        long[] shape = {6, 3, 2053};
        for (DType to : new DType[] {DType.F32, DType.F64, DType.BF16, DType.F16}) {
            Tensor src = random(rnd, dt, lay, shape);
            Tensor dst = TestTensors.empty(to, lay == Layout.TRANSPOSED ? Layout.CONTIGUOUS : Layout.TRANSPOSED, shape);
            CPU.copy(src, dst);
            double[] s = src.toDoubleArray();
            double[] expect = new double[s.length];
            for (int i = 0; i < s.length; i++) {
                Tensor one = Tensor.empty(to);
                one.setDouble(s[i]); // the exact cast, through DType
                expect[i] = one.getDouble();
            }
            assertClose("copy " + dt + " -> " + to, expect, dst.toDoubleArray(), 0);
        }
        Tensor ints = Tensor.ofLongs(new long[] {Long.MAX_VALUE, -3, 1L << 40}, 3);
        Tensor back = Tensor.empty(DType.I64, 3);
        CPU.copy(ints, back);
        org.junit.jupiter.api.Assertions.assertArrayEquals(new long[] {Long.MAX_VALUE, -3, 1L << 40},
            new long[] {back.getLong(0), back.getLong(1), back.getLong(2)});
    }

    private static void copyBroadcast(Random rnd, DType dt, Layout lay) {
        Tensor src = random(rnd, dt, Layout.CONTIGUOUS, 1, 37);
        Tensor dst = TestTensors.empty(DType.F32, lay, 9, 37);
        CPU.copy(src, dst);
        double[] s = src.toDoubleArray();
        double[] expect = new double[9 * 37];
        for (int i = 0; i < expect.length; i++) {
            expect[i] = (float) s[i % 37];
        }
        assertClose("copy broadcast", expect, dst.toDoubleArray(), 0);
    }

    /** A transposing copy big enough to go tile by tile (partial tiles at both edges), into every dtype. */
    private static void copyTranspose(Random rnd, DType dt, Layout lay) {
        Tensor src = random(rnd, dt, Layout.CONTIGUOUS, 2, 70, 130).transpose(1, 2);
        for (DType to : new DType[] {DType.F32, DType.F64, DType.BF16, dt}) {
            Tensor dst = TestTensors.empty(to, lay == Layout.TRANSPOSED ? Layout.NARROWED : lay, 2, 130, 70);
            CPU.copy(src, dst);
            double[] s = src.toDoubleArray();
            double[] expect = new double[s.length];
            for (int i = 0; i < s.length; i++) {
                Tensor one = Tensor.empty(to);
                one.setDouble(s[i]);
                expect[i] = one.getDouble();
            }
            assertClose("copy transpose " + dt + " -> " + to, expect, dst.toDoubleArray(), 0);
        }
    }

    private static void fill(Random rnd, DType dt, Layout lay) {
        Tensor dst = TestTensors.empty(dt, lay, 5, 67);
        double value = rnd.nextGaussian();
        CPU.fill(dst, value);
        Tensor one = Tensor.empty(dt);
        one.setDouble(value);
        double[] expect = new double[5 * 67];
        java.util.Arrays.fill(expect, one.getDouble());
        assertClose("fill", expect, dst.toDoubleArray(), 0);
    }

    private static void reduce(ReduceOp op, Random rnd, DType dt, Layout lay) {
        long[] shape = {4, 9, 131};
        Tensor x = random(rnd, dt, lay, shape);
        double[] xs = x.toDoubleArray();
        for (int[] dims : new int[][] {{2}, {0}, {0, 2}, {1}, {0, 1, 2}}) {
            long[] outShape = shape.clone();
            for (int d : dims) {
                outShape[d] = 1;
            }
            Tensor out = TestTensors.empty(dt == DType.F64 ? DType.F64 : DType.F32, lay, outShape);
            CPU.reduce(op, x, dims, out);
            double[] expect = new double[(int) Reference.numel(outShape)];
            java.util.Arrays.fill(expect, op == ReduceOp.MAX ? Double.NEGATIVE_INFINITY : op == ReduceOp.MIN ? Double.POSITIVE_INFINITY : 0);
            long count = Reference.numel(shape) / expect.length;
            for (int i = 0; i < xs.length; i++) {
                // out index: x's coordinates with reduced ones zeroed
                long rem = i;
                long oi = 0;
                long mul = 1;
                for (int d = shape.length - 1; d >= 0; d--) {
                    long c = rem % shape[d];
                    rem /= shape[d];
                    oi += (outShape[d] == 1 ? 0 : c) * mul;
                    mul *= outShape[d];
                }
                int o = (int) oi;
                expect[o] = switch (op) {
                    case SUM, MEAN -> expect[o] + xs[i];
                    case SUM_SQUARES -> expect[o] + xs[i] * xs[i];
                    case MAX -> Math.max(expect[o], xs[i]);
                    case MIN -> Math.min(expect[o], xs[i]);
                };
            }
            if (op == ReduceOp.MEAN) {
                for (int i = 0; i < expect.length; i++) {
                    expect[i] /= count;
                }
            }
            double tol = dt == DType.F64 ? 1e-10 : 2e-5 * Math.sqrt(count);
            assertClose("reduce " + op + " " + java.util.Arrays.toString(dims), expect, out.toDoubleArray(), tol);
        }
    }

    // ---- rows ----

    private static void softmax(Random rnd, DType dt, Layout lay) {
        for (int d : new int[] {1, 3, 17, 130}) {
            Tensor x = random(rnd, dt, lay, 3, 2, 5, d);
            Tensor out = TestTensors.empty(dt, lay, 3, 2, 5, d);
            CPU.softmax(x, out);
            assertClose("softmax d=" + d, Reference.softmaxRows(x.toDoubleArray(), d), out.toDoubleArray(), tolerance(dt));
        }
    }

    private static void softmaxBackward(Random rnd, DType dt, Layout lay) {
        int d = 37;
        Tensor x = random(rnd, DType.F64, Layout.CONTIGUOUS, 6, d);
        double[] y = Reference.softmaxRows(x.toDoubleArray(), d);
        Tensor yt = TestTensors.empty(dt, lay, 6, d);
        CPU.copy(Tensor.ofDoubles(y, 6, d), yt);
        Tensor dy = random(rnd, dt, lay, 6, d);
        Tensor dx = TestTensors.empty(dt, lay, 6, d);
        CPU.softmaxBackward(yt, dy, dx);
        double[] ys = yt.toDoubleArray();
        double[] gs = dy.toDoubleArray();
        double[] expect = new double[ys.length];
        for (int r = 0; r < 6; r++) {
            double dot = 0;
            for (int i = 0; i < d; i++) {
                dot += ys[r * d + i] * gs[r * d + i];
            }
            for (int i = 0; i < d; i++) {
                expect[r * d + i] = ys[r * d + i] * (gs[r * d + i] - dot);
            }
        }
        assertClose("softmaxBackward", expect, dx.toDoubleArray(), tolerance(dt) * 2);
    }

    /**
     * Norm forward against the twin, and the backward against finite differences of the twin (the loss is
     * Σ out·g for a fixed random g), so the backward reference is independent of any hand-derived formula.
     */
    private static void norm(boolean centered, boolean affine, Random rnd, DType dt, Layout lay) {
        int rows = 7;
        int d = 131;
        double eps = 1e-5;
        Tensor x = random(rnd, dt, lay, 0.7, 0.3, rows, d);
        Tensor w = affine ? random(rnd, dt, Layout.CONTIGUOUS, 0.5, 1, d) : null;
        Tensor b = affine && centered ? random(rnd, dt, Layout.CONTIGUOUS, d) : null;
        Tensor out = TestTensors.empty(dt, lay, rows, d);
        DType stat = dt == DType.F64 ? DType.F64 : DType.F32;
        Tensor mean = centered ? Tensor.zeros(stat, rows) : null;
        Tensor rstd = Tensor.zeros(stat, rows);
        if (centered) {
            CPU.layerNorm(x, w, b, eps, out, mean, rstd);
        } else {
            CPU.rmsNorm(x, w, eps, out, rstd);
        }
        double[] xs = x.toDoubleArray();
        double[] ws = w == null ? null : w.toDoubleArray();
        double[] bs = b == null ? null : b.toDoubleArray();
        double[][] ref = Reference.norm(centered, xs, d, ws, bs, eps);
        double tol = tolerance(dt) * 2;
        assertClose("norm out", ref[0], out.toDoubleArray(), tol);
        if (centered) {
            assertClose("norm mean", ref[1], mean.toDoubleArray(), 1e-5);
        }
        assertClose("norm rstd", ref[2], rstd.toDoubleArray(), 1e-5);

        Tensor g = random(rnd, dt, Layout.CONTIGUOUS, rows, d);
        double[] gs = g.toDoubleArray();
        Tensor dx = TestTensors.empty(dt, lay, rows, d);
        Tensor dw = affine ? Tensor.zeros(dt, d) : null;
        Tensor db = b != null ? Tensor.zeros(dt, d) : null;
        if (centered) {
            CPU.layerNormBackward(x, w, mean, rstd, g, dx, dw, db);
        } else {
            CPU.rmsNormBackward(x, w, rstd, g, dx, dw);
        }
        java.util.function.Function<double[][], Double> loss = p -> {
            double[] o = Reference.norm(centered, p[0], d, p[1], p[2], eps)[0];
            double s = 0;
            for (int i = 0; i < o.length; i++) {
                s += o[i] * gs[i];
            }
            return s;
        };
        double[][] params = {xs, ws, bs};
        double gradTol = dt == DType.F64 ? 1e-6 : tolerance(dt) * 20;
        assertClose("norm dx", numericGradient(loss, params, 0), dx.toDoubleArray(), gradTol);
        if (dw != null) {
            assertClose("norm dWeight", numericGradient(loss, params, 1), dw.toDoubleArray(), gradTol);
        }
        if (db != null) {
            assertClose("norm dBias", numericGradient(loss, params, 2), db.toDoubleArray(), gradTol);
        }
    }

    /** Central differences of {@code loss} with respect to {@code params[which]}. */
    static double[] numericGradient(java.util.function.Function<double[][], Double> loss, double[][] params, int which) {
        double[] p = params[which];
        double[] grad = new double[p.length];
        double h = 1e-6;
        for (int i = 0; i < p.length; i++) {
            double keep = p[i];
            p[i] = keep + h;
            double up = loss.apply(params);
            p[i] = keep - h;
            double down = loss.apply(params);
            p[i] = keep;
            grad[i] = (up - down) / (2 * h);
        }
        return grad;
    }

    private static void rope(boolean inverse, Random rnd, DType dt, Layout lay) {
        int b = 2;
        int len = 5;
        int h = 3;
        int d = 38;
        Tensor x = random(rnd, dt, lay, b, len, h, d);
        Tensor cos = Tensor.zeros(DType.F64, len, d / 2);
        Tensor sin = Tensor.zeros(DType.F64, len, d / 2);
        for (int l = 0; l < len; l++) {
            for (int j = 0; j < d / 2; j++) {
                double theta = l / Math.pow(10000, 2.0 * j / d);
                cos.setDouble(Math.cos(theta), l, j);
                sin.setDouble(Math.sin(theta), l, j);
            }
        }
        Tensor out = TestTensors.empty(dt, lay, b, len, h, d);
        CPU.rope(x, dt == DType.F64 ? cos : cos.to(DType.F32), sin, inverse, out);
        double[] xs = x.toDoubleArray();
        double[] expect = new double[xs.length];
        for (int i = 0; i < xs.length; i += 2) {
            int l = (i / (h * d)) % len;
            int j = (i % d) / 2;
            double c = cos.getDouble(l, j);
            double s = (inverse ? -1 : 1) * sin.getDouble(l, j);
            expect[i] = xs[i] * c - xs[i + 1] * s;
            expect[i + 1] = xs[i] * s + xs[i + 1] * c;
        }
        assertClose("rope", expect, out.toDoubleArray(), tolerance(dt) * 2);
    }

    private static void gatherRows(Random rnd, DType dt, Layout lay) {
        Tensor table = random(rnd, dt, lay, 11, 21);
        Tensor ids = Tensor.ofLongs(new long[] {3, 0, 10, 3}, 4);
        Tensor out = TestTensors.empty(dt, lay, 4, 21);
        CPU.gatherRows(table, ids, out);
        double[] t = table.toDoubleArray();
        double[] expect = new double[4 * 21];
        for (int i = 0; i < 4; i++) {
            System.arraycopy(t, (int) ids.getLong(i) * 21, expect, i * 21, 21);
        }
        assertClose("gatherRows", expect, out.toDoubleArray(), 0);
        Tensor bad = Tensor.ofLongs(new long[] {11}, 1);
        var e = org.junit.jupiter.api.Assertions.assertThrows(IndexOutOfBoundsException.class,
            () -> CPU.gatherRows(table, bad, Tensor.empty(dt, 1, 21)));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("11"), e.getMessage());
    }
}
