package dev.loraid.tensor;

import dev.loraid.tensor.cpu.Reference;
import dev.loraid.tensor.cpu.TestTensors;
import dev.loraid.tensor.cpu.TestTensors.Layout;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;

import static dev.loraid.tensor.cpu.TestTensors.assertClose;
import static dev.loraid.tensor.cpu.TestTensors.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The test side of the op catalogue ({@link BackendOp}; ggml test-backend-ops style): each op's cases with odd
 * shapes, each run for every dtype it lists and every {@link Layout} (inputs and outputs alike), compared with the
 * plain fp64 twins in {@link Reference}. Inputs are made on the host; {@link Target} places them on the backend
 * under test, so one case serves the CPU and CUDA alike.
 *
 * <p>The references stay test-scoped: they are naive (O(n³) matmul, full [Lq, Lk] attention), share no code with
 * the kernels on purpose, and are not something to fall back to at run time; {@link BackendOp} is the main-scoped
 * half that callers use ({@link Backend#supports}).
 */
final class OpCases {
    private OpCases() {
    }

    @FunctionalInterface
    interface Check {
        void check(Target t, Random rnd, DType dtype, Layout layout);
    }

    /** One case of an op: its name (the op's method, plus what varies), the dtypes it runs for, the check. */
    record Case(BackendOp op, String name, Set<DType> dtypes, Check check) {
        @Override
        public String toString() {
            return name;
        }
    }

    static final Set<DType> FLOATS = Set.of(DType.F64, DType.F32, DType.BF16, DType.F16);
    static final Set<DType> WITH_FP8 = Set.of(DType.F64, DType.F32, DType.BF16, DType.F16, DType.F8_E4M3, DType.F8_E5M2);

    static final List<Case> CASES = new ArrayList<>();

    private static void add(BackendOp op, String what, Set<DType> dtypes, Check check) {
        CASES.add(new Case(op, op.method() + (what.isEmpty() ? "" : " " + what), dtypes, check));
    }

    static {
        for (UnaryOp u : UnaryOp.values()) {
            add(BackendOp.UNARY, u.name(), FLOATS, (t, rnd, dt, lay) -> unary(t, u, rnd, dt, lay));
            add(BackendOp.UNARY_BACKWARD, u.name(), FLOATS, (t, rnd, dt, lay) -> unaryBackward(t, u, rnd, dt, lay));
        }
        for (BinaryOp b : BinaryOp.values()) {
            add(BackendOp.BINARY, b.name(), FLOATS, (t, rnd, dt, lay) -> binary(t, b, rnd, dt, lay));
            add(BackendOp.BINARY_SCALAR, b.name(), FLOATS, (t, rnd, dt, lay) -> binaryScalar(t, b, rnd, dt, lay));
        }
        add(BackendOp.ADD_SCALED, "", FLOATS, OpCases::addScaled);
        add(BackendOp.COPY, "", WITH_FP8, OpCases::copy);
        add(BackendOp.COPY, "broadcast", WITH_FP8, OpCases::copyBroadcast);
        add(BackendOp.COPY, "transpose", WITH_FP8, OpCases::copyTranspose);
        add(BackendOp.FILL, "", WITH_FP8, OpCases::fill);
        add(BackendOp.GATHER_ROWS, "", WITH_FP8, OpCases::gatherRows);
        add(BackendOp.MATMUL, "", Set.of(DType.F64, DType.F32, DType.BF16, DType.F16, DType.F8_E4M3), OpCases::matmul);
        for (ReduceOp r : ReduceOp.values()) {
            add(BackendOp.REDUCE, r.name(), FLOATS, (t, rnd, dt, lay) -> reduce(t, r, rnd, dt, lay));
        }
        add(BackendOp.SOFTMAX, "", FLOATS, OpCases::softmax);
        add(BackendOp.SOFTMAX_BACKWARD, "", FLOATS, OpCases::softmaxBackward);
        // the norm cases check forward and backward together (the backward reads the forward's statistics)
        add(BackendOp.LAYER_NORM, "affine", FLOATS, (t, rnd, dt, lay) -> norm(t, true, true, false, rnd, dt, lay));
        add(BackendOp.LAYER_NORM, "plain", FLOATS, (t, rnd, dt, lay) -> norm(t, true, false, false, rnd, dt, lay));
        add(BackendOp.LAYER_NORM_BACKWARD, "affine", FLOATS, (t, rnd, dt, lay) -> norm(t, true, true, true, rnd, dt, lay));
        add(BackendOp.RMS_NORM, "", FLOATS, (t, rnd, dt, lay) -> norm(t, false, true, false, rnd, dt, lay));
        add(BackendOp.RMS_NORM_BACKWARD, "", FLOATS, (t, rnd, dt, lay) -> norm(t, false, true, true, rnd, dt, lay));
        add(BackendOp.ROPE, "", FLOATS, (t, rnd, dt, lay) -> rope(t, false, rnd, dt, lay));
        add(BackendOp.ROPE, "inverse", FLOATS, (t, rnd, dt, lay) -> rope(t, true, rnd, dt, lay));
        add(BackendOp.ATTENTION, "", FLOATS, (t, rnd, dt, lay) -> attention(t, false, rnd, dt, lay));
        add(BackendOp.ATTENTION_BACKWARD, "", FLOATS, (t, rnd, dt, lay) -> attention(t, true, rnd, dt, lay));
        add(BackendOp.ATTENTION_WITH_BIAS, "", FLOATS, OpCases::attentionWithBias);
        add(BackendOp.CONV3D, "causal", FLOATS, (t, rnd, dt, lay) -> conv3d(t, new int[] {2, 3, 4, 5, 6},
            new int[] {4, 3, 3, 2, 3}, true, new int[] {1, 2, 1}, new int[] {2, 0, 1, 0, 1, 1}, rnd, dt, lay));
        add(BackendOp.CONV3D, "strided no bias", FLOATS, (t, rnd, dt, lay) -> conv3d(t, new int[] {1, 5, 5, 7, 8},
            new int[] {3, 5, 3, 3, 3}, false, new int[] {2, 2, 2}, new int[] {0, 0, 0, 1, 0, 1}, rnd, dt, lay));
        add(BackendOp.CONV3D, "1x1", FLOATS, (t, rnd, dt, lay) -> conv3d(t, new int[] {1, 6, 2, 3, 9},
            new int[] {7, 6, 1, 1, 1}, true, new int[] {1, 1, 1}, new int[] {0, 0, 0, 0, 0, 0}, rnd, dt, lay));
        // odd sizes, every stride and padding shape: causal front padding, one-sided spatial padding, stride 2 with a
        // remainder (input positions no output reads), 1x1, and a 2-D convolution (kt = 1)
        add(BackendOp.CONV3D_BACKWARD, "causal", FLOATS, (t, rnd, dt, lay) -> conv3dBackward(t, new int[] {2, 3, 4, 5, 6},
            new int[] {4, 3, 3, 2, 3}, new int[] {1, 2, 1}, new int[] {2, 0, 1, 0, 1, 1}, rnd, dt, lay));
        add(BackendOp.CONV3D_BACKWARD, "strided", FLOATS, (t, rnd, dt, lay) -> conv3dBackward(t, new int[] {1, 5, 5, 7, 8},
            new int[] {3, 5, 3, 3, 3}, new int[] {2, 2, 2}, new int[] {0, 0, 0, 1, 0, 1}, rnd, dt, lay));
        add(BackendOp.CONV3D_BACKWARD, "1x1", FLOATS, (t, rnd, dt, lay) -> conv3dBackward(t, new int[] {1, 6, 2, 3, 9},
            new int[] {7, 6, 1, 1, 1}, new int[] {1, 1, 1}, new int[] {0, 0, 0, 0, 0, 0}, rnd, dt, lay));
        add(BackendOp.CONV3D_BACKWARD, "2-D", FLOATS, (t, rnd, dt, lay) -> conv3dBackward(t, new int[] {2, 3, 1, 7, 5},
            new int[] {2, 3, 1, 3, 3}, new int[] {1, 2, 1}, new int[] {0, 0, 1, 1, 0, 2}, rnd, dt, lay));
        add(BackendOp.UPSAMPLE_NEAREST, "", WITH_FP8, OpCases::upsampleNearest);
        add(BackendOp.PAD, "", WITH_FP8, OpCases::pad);
        add(BackendOp.RANDOM_UNIFORM, "", FLOATS, (t, rnd, dt, lay) -> randomStream(t, false, dt, lay));
        add(BackendOp.RANDOM_NORMAL, "", FLOATS, (t, rnd, dt, lay) -> randomStream(t, true, dt, lay));
        add(BackendOp.ADAMW_UPDATE, "", Set.of(DType.F32), OpCases::adamw);
        add(BackendOp.ADAMW8BIT_UPDATE, "", Set.of(DType.F32), (t, rnd, dt, lay) -> adamw8bit(t, rnd));
    }

    private static final Backend HOST = Backends.cpu();

    /** The exact cast of {@code v} into {@code dtype} (through {@link DType#write}, rounding once). */
    private static double cast(DType dtype, double v) {
        Tensor one = Tensor.empty(dtype);
        one.setDouble(v);
        return one.getDouble();
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
            HOST.unary(UnaryOp.ABS, x, x);
        }
        return x;
    }

    private static void unary(Target t, UnaryOp op, Random rnd, DType dt, Layout lay) {
        long[] shape = {3, 17, 130};
        Tensor x = unaryInput(op, rnd, dt, lay, shape);
        Tensor[] r = t.run((b, a) -> b.unary(op, a[0], a[1]), x, TestTensors.empty(dt, lay, shape));
        double[] xs = x.toDoubleArray();
        double[] expect = new double[xs.length];
        for (int i = 0; i < xs.length; i++) {
            expect[i] = op.apply(xs[i]);
        }
        assertClose("unary " + op, expect, r[1].toDoubleArray(), t.tol(dt) * 4);
    }

    private static void unaryBackward(Target t, UnaryOp op, Random rnd, DType dt, Layout lay) {
        long[] shape = {5, 33};
        Tensor x = unaryInput(op, rnd, dt, lay, shape);
        Tensor dy = random(rnd, dt, Layout.CONTIGUOUS, shape);
        Tensor[] r = t.run((b, a) -> b.unaryBackward(op, a[0], a[1], a[2]), x, dy, TestTensors.empty(dt, lay, shape));
        double[] xs = x.toDoubleArray();
        double[] gs = dy.toDoubleArray();
        double[] expect = new double[xs.length];
        for (int i = 0; i < xs.length; i++) {
            expect[i] = gs[i] * op.derivative(xs[i]);
        }
        assertClose("unaryBackward " + op, expect, r[2].toDoubleArray(), t.tol(dt) * 8);
    }

    /**
     * Operands of {@code op} inside its domain: POW bases at least 0.5 (F16 holds powers up to 65504), DIV divisors
     * away from 0. In place but idempotent, as a broadcast operand writes one element many times.
     */
    private static void domain(BinaryOp op, Tensor a, Tensor b) {
        if (op == BinaryOp.POW) {
            HOST.unary(UnaryOp.ABS, a, a);
            HOST.binaryScalar(BinaryOp.MAX, a, 0.5, a);
        }
        if (op == BinaryOp.DIV && b != null) {
            HOST.unary(UnaryOp.EXP, b, b);
        }
    }

    private static void binary(Target t, BinaryOp op, Random rnd, DType dt, Layout lay) {
        long[] outShape = {3, 5, 537}; // runs of more than two work blocks (cpu Elementwise.BLOCK)
        long[] aShape = {3, 1, 537};
        long[] bShape = {5, 537};
        Tensor a = random(rnd, dt, lay, aShape);
        Tensor b = random(rnd, dt, Layout.CONTIGUOUS, bShape);
        domain(op, a, b);
        Tensor[] r = t.run((be, x) -> be.binary(op, x[0], x[1], x[2]), a, b, TestTensors.empty(dt, lay, outShape));
        double[] as = a.toDoubleArray();
        double[] bs = b.toDoubleArray();
        double[] expect = new double[(int) Reference.numel(outShape)];
        for (int i = 0; i < expect.length; i++) {
            expect[i] = op.apply(as[Reference.broadcastIndex(outShape, aShape, i)],
                bs[Reference.broadcastIndex(outShape, bShape, i)]);
        }
        assertClose("binary " + op, expect, r[2].toDoubleArray(), t.tol(dt) * 2);
    }

    private static void binaryScalar(Target t, BinaryOp op, Random rnd, DType dt, Layout lay) {
        Tensor a = random(rnd, dt, lay, 7, 529);
        domain(op, a, null);
        double scalar = op == BinaryOp.DIV ? -1.75 : 0.75;
        Tensor[] r = t.run((b, x) -> b.binaryScalar(op, x[0], scalar, x[1]), a, TestTensors.empty(dt, lay, 7, 529));
        double[] as = a.toDoubleArray();
        for (int i = 0; i < as.length; i++) {
            as[i] = op.apply(as[i], scalar);
        }
        assertClose("binaryScalar " + op, as, r[1].toDoubleArray(), t.tol(dt) * 2);
    }

    private static void addScaled(Target t, Random rnd, DType dt, Layout lay) {
        long[] outShape = {4, 3, 537};
        Tensor a = random(rnd, dt, lay, outShape);
        Tensor b = random(rnd, dt, Layout.CONTIGUOUS, 3, 1);
        Tensor[] r = t.run((be, x) -> be.addScaled(x[0], 0.5, x[1], -2.0, x[2]), a, b, TestTensors.empty(dt, lay, outShape));
        double[] as = a.toDoubleArray();
        double[] bs = b.toDoubleArray();
        double[] expect = new double[as.length];
        for (int i = 0; i < expect.length; i++) {
            expect[i] = as[i] * 0.5 - 2.0 * bs[Reference.broadcastIndex(outShape, new long[] {3, 1}, i)];
        }
        assertClose("addScaled", expect, r[2].toDoubleArray(), t.tol(dt) * 2);
    }

    // ---- data movement ----

    /** Into the wide types and the source's own (casts into FP8 from a wider type round once from the double). */
    private static DType[] copyTargets(DType dt) {
        return new DType[] {DType.F32, DType.F64, DType.BF16, DType.F16, dt};
    }

    private static void copy(Target t, Random rnd, DType dt, Layout lay) {
        long[] shape = {6, 3, 2053};
        for (DType to : copyTargets(dt)) {
            Tensor src = random(rnd, dt, lay, shape);
            Tensor dst = TestTensors.empty(to, lay == Layout.TRANSPOSED ? Layout.CONTIGUOUS : Layout.TRANSPOSED, shape);
            Tensor[] r = t.run((b, a) -> b.copy(a[0], a[1]), src, dst);
            double[] expect = Arrays.stream(src.toDoubleArray()).map(v -> cast(to, v)).toArray();
            assertClose("copy " + dt + " -> " + to, expect, r[1].toDoubleArray(), 0);
        }
        if (dt == DType.F64) { // integers copy exactly, I64 beyond 2^53 included
            long[] big = {Long.MAX_VALUE, -3, 1L << 40};
            Tensor[] r = t.run((b, a) -> b.copy(a[0], a[1]), Tensor.ofLongs(big, 3), Tensor.empty(DType.I64, 3));
            Tensor back = r[1].to(Device.CPU);
            assertEquals(Arrays.toString(big), Arrays.toString(new long[] {back.getLong(0), back.getLong(1), back.getLong(2)}));
        }
    }

    private static void copyBroadcast(Target t, Random rnd, DType dt, Layout lay) {
        Tensor src = random(rnd, dt, Layout.CONTIGUOUS, 1, 37);
        Tensor[] r = t.run((b, a) -> b.copy(a[0], a[1]), src, TestTensors.empty(DType.F32, lay, 9, 37));
        double[] s = src.toDoubleArray();
        double[] expect = new double[9 * 37];
        for (int i = 0; i < expect.length; i++) {
            expect[i] = (float) s[i % 37];
        }
        assertClose("copy broadcast", expect, r[1].toDoubleArray(), 0);
    }

    /** A transposing copy big enough to go tile by tile (partial tiles at both edges), into every dtype. */
    private static void copyTranspose(Target t, Random rnd, DType dt, Layout lay) {
        Tensor src = random(rnd, dt, Layout.CONTIGUOUS, 2, 70, 130).transpose(1, 2);
        for (DType to : copyTargets(dt)) {
            Tensor dst = TestTensors.empty(to, lay == Layout.TRANSPOSED ? Layout.NARROWED : lay, 2, 130, 70);
            Tensor[] r = t.run((b, a) -> b.copy(a[0], a[1]), src, dst);
            double[] expect = Arrays.stream(src.toDoubleArray()).map(v -> cast(to, v)).toArray();
            assertClose("copy transpose " + dt + " -> " + to, expect, r[1].toDoubleArray(), 0);
        }
    }

    private static void fill(Target t, Random rnd, DType dt, Layout lay) {
        double value = rnd.nextGaussian();
        Tensor[] r = t.run((b, a) -> b.fill(a[0], value), TestTensors.empty(dt, lay, 5, 67));
        double[] expect = new double[5 * 67];
        Arrays.fill(expect, cast(dt, value));
        assertClose("fill", expect, r[0].toDoubleArray(), 0);
    }

    private static void gatherRows(Target t, Random rnd, DType dt, Layout lay) {
        Tensor table = random(rnd, dt, lay, 11, 21);
        Tensor ids = Tensor.ofLongs(new long[] {3, 0, 10, 3}, 4);
        Tensor[] r = t.run((b, a) -> b.gatherRows(a[0], a[1], a[2]), table, ids, TestTensors.empty(dt, lay, 4, 21));
        double[] tab = table.toDoubleArray();
        double[] expect = new double[4 * 21];
        for (int i = 0; i < 4; i++) {
            System.arraycopy(tab, (int) ids.getLong(i) * 21, expect, i * 21, 21);
        }
        assertClose("gatherRows", expect, r[2].toDoubleArray(), 0);
        var e = assertThrows(IndexOutOfBoundsException.class, () -> t.run((b, a) -> b.gatherRows(a[0], a[1], a[2]),
            table, Tensor.ofLongs(new long[] {11}, 1), Tensor.empty(dt, 1, 21)));
        assertTrue(e.getMessage().contains("11"), e.getMessage());
    }

    // ---- GEMM ----

    /**
     * {@code c = 0.5·(a @ b) + 0.25·c + bias} over a broadcast batch with a shared 2-D b; FP8 is b's dtype only
     * (weights stay in their file dtype), with a and c F32.
     */
    private static void matmul(Target t, Random rnd, DType dt, Layout lay) {
        boolean fp8 = dt == DType.F8_E4M3;
        DType io = fp8 ? DType.F32 : dt;
        int m = 5;
        int k = 37;
        int n = 19;
        Tensor a = random(rnd, io, lay, 2, m, k);
        Tensor b = random(rnd, dt, lay == Layout.BROADCAST ? Layout.CONTIGUOUS : lay, k, n);
        Tensor c = random(rnd, io, lay == Layout.BROADCAST ? Layout.CONTIGUOUS : lay, 2, m, n);
        Tensor bias = random(rnd, io, Layout.CONTIGUOUS, n);
        double[] as = a.toDoubleArray();
        double[] bs = b.toDoubleArray();
        double[] cs = c.toDoubleArray();
        Tensor[] r = t.run((be, x) -> be.matmul(x[0], x[1], x[2], 0.5, 0.25, x[3]), a, b, c, bias);
        double[] got = r[2].toDoubleArray();
        for (int batch = 0; batch < 2; batch++) {
            double[] expect = Reference.matmul(Arrays.copyOfRange(as, batch * m * k, (batch + 1) * m * k), bs,
                Arrays.copyOfRange(cs, batch * m * n, (batch + 1) * m * n), bias.toDoubleArray(), m, k, n, 0.5, 0.25);
            assertClose("matmul batch " + batch, expect, Arrays.copyOfRange(got, batch * m * n, (batch + 1) * m * n),
                t.tol(io) * 8);
        }
    }

    // ---- convolution and resampling ----

    /** x and weight in the case's layout (a transposed or padded weight is made contiguous by the kernel). */
    private static void conv3d(Target t, int[] xd, int[] wd, boolean withBias, int[] stride, int[] pad, Random rnd,
                               DType dt, Layout lay) {
        Tensor x = random(rnd, dt, lay, toLongs(xd));
        Tensor w = random(rnd, dt, lay == Layout.BROADCAST ? Layout.CONTIGUOUS : lay, 0.3, 0, toLongs(wd));
        Tensor bias = withBias ? random(rnd, dt, Layout.CONTIGUOUS, wd[0]) : null;
        double[] expect = Reference.conv3d(x.toDoubleArray(), xd, w.toDoubleArray(), wd,
            bias == null ? null : bias.toDoubleArray(), stride, pad);
        long[] od = {xd[0], wd[0], (xd[2] + pad[0] + pad[1] - wd[2]) / stride[0] + 1,
            (xd[3] + pad[2] + pad[3] - wd[3]) / stride[1] + 1, (xd[4] + pad[4] + pad[5] - wd[4]) / stride[2] + 1};
        Tensor[] r = t.run((b, a) -> {
            org.junit.jupiter.api.Assumptions.assumeTrue(b.supports(BackendOp.CONV3D, a[0], a[1], a[2], a[3]),
                "conv3d not supported on " + b.device());
            b.conv3d(a[0], a[1], a[2], stride, pad, a[3]);
        }, x, w, bias, TestTensors.empty(dt, lay, od));
        assertClose("conv3d", expect, r[3].toDoubleArray(), t.tol(dt) * 8);
    }

    /**
     * dx, dWeight and dBias against the fp64 twin ({@link Reference#conv3dBackward}); for F64 the twin itself is
     * checked against central differences of {@code Σ conv3d(x, w, b)·g} first. The outputs start as garbage (NaN) in
     * the case's layout, so a kernel that accumulated instead of overwriting fails.
     */
    private static void conv3dBackward(Target t, int[] xd, int[] wd, int[] stride, int[] pad, Random rnd, DType dt,
                                       Layout lay) {
        Tensor x = random(rnd, dt, lay, toLongs(xd));
        Tensor w = random(rnd, dt, lay == Layout.BROADCAST ? Layout.CONTIGUOUS : lay, 0.3, 0, toLongs(wd));
        long[] od = {xd[0], wd[0], (xd[2] + pad[0] + pad[1] - wd[2]) / stride[0] + 1,
            (xd[3] + pad[2] + pad[3] - wd[3]) / stride[1] + 1, (xd[4] + pad[4] + pad[5] - wd[4]) / stride[2] + 1};
        Tensor g = random(rnd, dt, lay == Layout.BROADCAST ? Layout.TRANSPOSED : lay, od);
        double[] xs = x.toDoubleArray();
        double[] ws = w.toDoubleArray();
        double[] gs = g.toDoubleArray();
        double[][] expect = Reference.conv3dBackward(xs, xd, ws, wd, gs, stride, pad);
        if (dt == DType.F64) {
            double[] bs = new double[wd[0]];
            Function<double[][], Double> loss = p -> {
                double[] o = Reference.conv3d(p[0], xd, p[1], wd, p[2], stride, pad);
                double s = 0;
                for (int i = 0; i < o.length; i++) {
                    s += o[i] * gs[i];
                }
                return s;
            };
            double[][] params = {xs.clone(), ws.clone(), bs};
            for (int which = 0; which < 3; which++) {
                assertClose("conv3d reference gradient " + which + " vs finite differences",
                    numericGradient(loss, params, which), expect[which], 1e-6);
            }
        }
        Tensor dx = TestTensors.empty(dt, lay == Layout.BROADCAST ? Layout.NARROWED : lay, toLongs(xd));
        Tensor dw = TestTensors.empty(dt, lay == Layout.BROADCAST ? Layout.NARROWED : lay, toLongs(wd));
        Tensor db = TestTensors.empty(dt, Layout.CONTIGUOUS, wd[0]);
        for (Tensor out : new Tensor[] {dx, dw, db}) {
            HOST.fill(out, Double.NaN);
        }
        Tensor[] r = t.run((b, a) -> {
            org.junit.jupiter.api.Assumptions.assumeTrue(b.supports(BackendOp.CONV3D_BACKWARD, a),
                "conv3dBackward not supported on " + b.device());
            b.conv3dBackward(a[0], a[1], a[2], stride, pad, a[3], a[4], a[5]);
        }, x, w, g, dx, dw, db);
        double tol = dt == DType.F64 ? 1e-10 : t.tol(dt) * 16;
        assertClose("conv3dBackward dx", expect[0], r[3].toDoubleArray(), tol);
        assertClose("conv3dBackward dWeight", expect[1], r[4].toDoubleArray(), tol);
        assertClose("conv3dBackward dBias", expect[2], r[5].toDoubleArray(), tol);
        // only dx, then only dWeight: a null output is skipped, the others unchanged
        Tensor dx2 = TestTensors.empty(dt, Layout.CONTIGUOUS, toLongs(xd));
        Tensor dw2 = TestTensors.empty(dt, Layout.CONTIGUOUS, toLongs(wd));
        Tensor[] onlyDx = t.run((b, a) -> b.conv3dBackward(a[0], a[1], a[2], stride, pad, a[3], null, null), x, w, g, dx2);
        assertClose("conv3dBackward dx alone", expect[0], onlyDx[3].toDoubleArray(), tol);
        Tensor[] onlyDw = t.run((b, a) -> b.conv3dBackward(a[0], a[1], a[2], stride, pad, null, a[3], null), x, w, g, dw2);
        assertClose("conv3dBackward dWeight alone", expect[1], onlyDw[3].toDoubleArray(), tol);
    }

    private static long[] toLongs(int[] v) {
        return Arrays.stream(v).asLongStream().toArray();
    }

    private static void upsampleNearest(Target t, Random rnd, DType dt, Layout lay) {
        Tensor x = random(rnd, dt, lay, 2, 3, 4);
        Tensor[] r = t.run((b, a) -> b.upsampleNearest(a[0], a[1]), x, TestTensors.empty(dt, lay, 2, 6, 12));
        double[] xs = x.toDoubleArray();
        double[] expect = new double[2 * 6 * 12];
        for (int i = 0; i < expect.length; i++) {
            int a = i / 72;
            int h = i / 12 % 6;
            int w = i % 12;
            expect[i] = xs[(a * 3 + h / 2) * 4 + w / 3];
        }
        assertClose("upsampleNearest", expect, r[1].toDoubleArray(), 0);
    }

    private static void pad(Target t, Random rnd, DType dt, Layout lay) {
        Tensor x = random(rnd, dt, lay, 2, 3, 4);
        int[] before = {0, 2, 1};
        Tensor out = random(rnd, dt, lay == Layout.BROADCAST ? Layout.CONTIGUOUS : lay, 3, 6, 5); // stale values
        Tensor[] r = t.run((b, a) -> b.pad(a[0], before, a[1]), x, out);
        double[] xs = x.toDoubleArray();
        double[] expect = new double[3 * 6 * 5];
        for (int a = 0; a < 2; a++) {
            for (int h = 0; h < 3; h++) {
                for (int w = 0; w < 4; w++) {
                    expect[(a * 6 + h + 2) * 5 + w + 1] = xs[(a * 3 + h) * 4 + w];
                }
            }
        }
        assertClose("pad", expect, r[1].toDoubleArray(), 0);
    }

    // ---- reductions ----

    private static void reduce(Target t, ReduceOp op, Random rnd, DType dt, Layout lay) {
        long[] shape = {4, 9, 131};
        Tensor x = random(rnd, dt, lay, shape);
        double[] xs = x.toDoubleArray();
        for (int[] dims : new int[][] {{2}, {0}, {0, 2}, {1}, {0, 1, 2}}) {
            long[] outShape = shape.clone();
            for (int d : dims) {
                outShape[d] = 1;
            }
            Tensor[] r = t.run((b, a) -> b.reduce(op, a[0], dims, a[1]), x,
                TestTensors.empty(dt == DType.F64 ? DType.F64 : DType.F32, lay, outShape));
            double[] expect = new double[(int) Reference.numel(outShape)];
            Arrays.fill(expect, op == ReduceOp.MAX ? Double.NEGATIVE_INFINITY : op == ReduceOp.MIN ? Double.POSITIVE_INFINITY : 0);
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
            // fp32 accumulation: the error grows with the count (√count for a random-walk rounding error)
            double tol = dt == DType.F64 ? 1e-10 : t.tol(DType.F32) * Math.sqrt(count);
            assertClose("reduce " + op + " " + Arrays.toString(dims), expect, r[1].toDoubleArray(), tol);
        }
    }

    // ---- rows ----

    private static void softmax(Target t, Random rnd, DType dt, Layout lay) {
        for (int d : new int[] {1, 3, 17, 130}) {
            Tensor x = random(rnd, dt, lay, 3, 2, 5, d);
            Tensor[] r = t.run((b, a) -> b.softmax(a[0], a[1]), x, TestTensors.empty(dt, lay, 3, 2, 5, d));
            assertClose("softmax d=" + d, Reference.softmaxRows(x.toDoubleArray(), d), r[1].toDoubleArray(), t.tol(dt));
        }
    }

    private static void softmaxBackward(Target t, Random rnd, DType dt, Layout lay) {
        int d = 37;
        Tensor x = random(rnd, DType.F64, Layout.CONTIGUOUS, 6, d);
        double[] y = Reference.softmaxRows(x.toDoubleArray(), d);
        Tensor yt = TestTensors.empty(dt, lay, 6, d);
        HOST.copy(Tensor.ofDoubles(y, 6, d), yt);
        Tensor dy = random(rnd, dt, lay, 6, d);
        Tensor[] r = t.run((b, a) -> b.softmaxBackward(a[0], a[1], a[2]), yt, dy, TestTensors.empty(dt, lay, 6, d));
        double[] ys = yt.toDoubleArray();
        double[] gs = dy.toDoubleArray();
        double[] expect = new double[ys.length];
        for (int row = 0; row < 6; row++) {
            double dot = 0;
            for (int i = 0; i < d; i++) {
                dot += ys[row * d + i] * gs[row * d + i];
            }
            for (int i = 0; i < d; i++) {
                expect[row * d + i] = ys[row * d + i] * (gs[row * d + i] - dot);
            }
        }
        assertClose("softmaxBackward", expect, r[2].toDoubleArray(), t.tol(dt) * 2);
    }

    /**
     * Norm forward against the twin; with {@code backward}, the backward against finite differences of the twin
     * (the loss is Σ out·g for a fixed random g), so the backward reference is independent of any hand-derived
     * formula.
     */
    private static void norm(Target t, boolean centered, boolean affine, boolean backward, Random rnd, DType dt,
                             Layout lay) {
        int rows = 7;
        int d = 131;
        double eps = 1e-5;
        Tensor x = random(rnd, dt, lay, 0.7, 0.3, rows, d);
        Tensor w = affine ? random(rnd, dt, Layout.CONTIGUOUS, 0.5, 1, d) : null;
        Tensor b = affine && centered ? random(rnd, dt, Layout.CONTIGUOUS, d) : null;
        DType stat = dt == DType.F64 ? DType.F64 : DType.F32;
        Tensor[] f = centered
            ? t.run((be, a) -> be.layerNorm(a[0], a[1], a[2], eps, a[3], a[4], a[5]), x, w, b,
                TestTensors.empty(dt, lay, rows, d), Tensor.zeros(stat, rows), Tensor.zeros(stat, rows))
            : t.run((be, a) -> be.rmsNorm(a[0], a[1], eps, a[2], a[3]), x, w, TestTensors.empty(dt, lay, rows, d),
                Tensor.zeros(stat, rows));
        Tensor out = centered ? f[3] : f[2];
        Tensor mean = centered ? f[4] : null;
        Tensor rstd = centered ? f[5] : f[3];
        double[] xs = x.toDoubleArray();
        double[] ws = w == null ? null : w.toDoubleArray();
        double[] bs = b == null ? null : b.toDoubleArray();
        double[][] ref = Reference.norm(centered, xs, d, ws, bs, eps);
        double tol = t.tol(dt) * 2;
        assertClose("norm out", ref[0], out.toDoubleArray(), tol);
        if (centered) {
            assertClose("norm mean", ref[1], mean.toDoubleArray(), 1e-5);
        }
        assertClose("norm rstd", ref[2], rstd.toDoubleArray(), 1e-5);
        if (!backward) {
            return;
        }
        Tensor g = random(rnd, dt, Layout.CONTIGUOUS, rows, d);
        double[] gs = g.toDoubleArray();
        Tensor dx = TestTensors.empty(dt, lay, rows, d);
        Tensor dw = affine ? Tensor.zeros(dt, d) : null;
        Tensor db = b != null ? Tensor.zeros(dt, d) : null;
        // the statistics are the backend's own, already placed: run them through as they are
        Tensor[] r = centered
            ? t.run((be, a) -> be.layerNormBackward(a[0], a[1], mean, rstd, a[2], a[3], a[4], a[5]), x, w, g, dx, dw, db)
            : t.run((be, a) -> be.rmsNormBackward(a[0], a[1], rstd, a[2], a[3], a[4]), x, w, g, dx, dw);
        Tensor gotDx = r[3];
        Tensor gotDw = r[4];
        Tensor gotDb = centered ? r[5] : null;
        Function<double[][], Double> loss = p -> {
            double[] o = Reference.norm(centered, p[0], d, p[1], p[2], eps)[0];
            double s = 0;
            for (int i = 0; i < o.length; i++) {
                s += o[i] * gs[i];
            }
            return s;
        };
        double[][] params = {xs, ws, bs};
        double gradTol = dt == DType.F64 ? 1e-6 : t.tol(dt) * 20;
        assertClose("norm dx", numericGradient(loss, params, 0), gotDx.toDoubleArray(), gradTol);
        if (gotDw != null) {
            assertClose("norm dWeight", numericGradient(loss, params, 1), gotDw.toDoubleArray(), gradTol);
        }
        if (gotDb != null) {
            assertClose("norm dBias", numericGradient(loss, params, 2), gotDb.toDoubleArray(), gradTol);
        }
    }

    /** Central differences of {@code loss} with respect to {@code params[which]}. */
    static double[] numericGradient(Function<double[][], Double> loss, double[][] params, int which) {
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

    private static void rope(Target t, boolean inverse, Random rnd, DType dt, Layout lay) {
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
        // mixed table dtypes run in fp32; all-F64 (the gradient-check case) in fp64 (Precision)
        Tensor[] r = t.run((be, a) -> be.rope(a[0], a[1], a[2], inverse, a[3]), x,
            dt == DType.F64 ? cos : cos.to(DType.F32), sin, TestTensors.empty(dt, lay, b, len, h, d));
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
        assertClose("rope", expect, r[3].toDoubleArray(), t.tol(dt) * 2);
    }

    // ---- attention ----

    /**
     * Attention over [B, H, L, D] views of [B, L, H, D] memory (as the model calls it) in the case's layout for q
     * and the outputs, with a key mask on batch 1; with {@code backward}, dq, dk and dv against the naive backward.
     */
    private static void attention(Target t, boolean backward, Random rnd, DType dt, Layout lay) {
        int bs = 2;
        int h = 3;
        int lq = 5;
        int lk = 7;
        int d = 16;
        int dv = 12;
        Tensor q = random(rnd, dt, lay, bs, h, lq, d);
        Tensor k = random(rnd, dt, Layout.CONTIGUOUS, bs, lk, h, d).permute(0, 2, 1, 3);
        Tensor v = random(rnd, dt, Layout.NARROWED, bs, lk, h, dv).permute(0, 2, 1, 3);
        Tensor out = TestTensors.empty(dt, lay, bs, h, lq, dv);
        Tensor lse = Tensor.zeros(dt == DType.F64 ? DType.F64 : DType.F32, bs, h, lq);
        int[] kv = {lk, 4};
        double scale = 1 / Math.sqrt(d);
        Tensor[] f = t.run((be, a) -> be.attention(a[0], a[1], a[2], scale, kv, a[3], a[4]), q, k, v, out, lse);
        Tensor dOut = random(rnd, dt, Layout.TRANSPOSED, bs, h, lq, dv);
        Tensor[] g = backward ? t.run((be, a) -> be.attentionBackward(f[0], f[1], f[2], f[3], a[0], f[4], scale, kv,
            a[1], a[2], a[3]), dOut, TestTensors.empty(dt, lay, bs, h, lq, d), TestTensors.empty(dt, lay, bs, h, lk, d),
            TestTensors.empty(dt, Layout.CONTIGUOUS, bs, h, lk, dv)) : null;
        double tol = dt == DType.F64 ? 1e-10 : Math.max(t.tol(dt), dt == DType.F32 ? 1e-4 : dt == DType.F16 ? 4e-3 : 3e-2);
        for (int bi = 0; bi < bs; bi++) {
            for (int hi = 0; hi < h; hi++) {
                double[] qs = head(q, bi, hi);
                double[] ks = head(k, bi, hi);
                double[] vs = head(v, bi, hi);
                String where = "b=" + bi + " h=" + hi;
                assertClose("attention out " + where, Reference.attention(qs, ks, vs, lq, lk, d, dv, kv[bi], scale),
                    head(f[3], bi, hi), tol);
                assertClose("attention lse " + where, Reference.attentionLse(qs, ks, lq, d, kv[bi], scale),
                    head(f[4], bi, hi), dt == DType.F64 ? 1e-10 : 1e-5 * 10);
                if (backward) {
                    double[][] grads = Reference.attentionBackward(qs, ks, vs, head(dOut, bi, hi), lq, lk, d, dv,
                        kv[bi], scale);
                    assertClose("attention dq " + where, grads[0], head(g[1], bi, hi), tol * 2);
                    assertClose("attention dk " + where, grads[1], head(g[2], bi, hi), tol * 2);
                    assertClose("attention dv " + where, grads[2], head(g[3], bi, hi), tol * 2);
                }
            }
        }
    }

    /**
     * Attention with a bias: one [H, Lq, Lk] table in the case's layout, expanded over the batch (stride 0, as T5's
     * position bias); Lq and Lk past one query tile and one key block (96) so the bias is read across tile edges; a
     * key mask on batch 1.
     */
    private static void attentionWithBias(Target t, Random rnd, DType dt, Layout lay) {
        int bs = 2;
        int h = 3;
        int lq = 101;
        int lk = 130;
        int d = 8;
        int dv = 6;
        Tensor q = random(rnd, dt, lay, bs, h, lq, d);
        Tensor k = random(rnd, dt, Layout.CONTIGUOUS, bs, lk, h, d).permute(0, 2, 1, 3);
        Tensor v = random(rnd, dt, Layout.NARROWED, bs, lk, h, dv).permute(0, 2, 1, 3);
        Tensor table = random(rnd, dt, lay == Layout.BROADCAST ? Layout.TRANSPOSED : lay, 2.0, 0.0, h, lq, lk);
        Tensor bias = table.unsqueeze(0).expand(bs, h, lq, lk);
        int[] kv = {lk, 70};
        double scale = 0.7;
        Tensor[] r = t.run((be, a) -> {
            org.junit.jupiter.api.Assumptions.assumeTrue(be.supports(BackendOp.ATTENTION_WITH_BIAS, a),
                "attentionWithBias not supported on " + be.device());
            be.attentionWithBias(a[0], a[1], a[2], a[3], scale, kv, a[4]);
        }, q, k, v, bias, TestTensors.empty(dt, lay, bs, h, lq, dv));
        double tol = dt == DType.F64 ? 1e-10 : Math.max(t.tol(dt), dt == DType.F32 ? 1e-4 : dt == DType.F16 ? 4e-3 : 3e-2);
        for (int bi = 0; bi < bs; bi++) {
            for (int hi = 0; hi < h; hi++) {
                assertClose("attentionWithBias out b=" + bi + " h=" + hi, Reference.attention(head(q, bi, hi),
                    head(k, bi, hi), head(v, bi, hi), head(bias, bi, hi), lq, lk, d, dv, kv[bi], scale),
                    head(r[4], bi, hi), tol);
            }
        }
    }

    private static double[] head(Tensor t, int b, int h) {
        return t.to(Device.CPU).select(0, b).select(0, h).toDoubleArray();
    }

    // ---- randomness ----

    /**
     * The counter-based streams: the reference is the documented stream in fp64 (the CPU backend's, itself held
     * to Random123's known answers in RandomAndAdamWTest) cast to the dtype, element i of dst (row-major) being
     * number offset + i whatever dst's layout; plus the distribution's range.
     */
    private static void randomStream(Target t, boolean normal, DType dt, Layout lay) {
        long seed = normal ? -42 : 0x1234_5678_9abcL;
        long offset = normal ? (1L << 33) + 3 : 77;
        Tensor stream = Tensor.empty(DType.F64, 9, 13);
        if (normal) {
            HOST.randomNormal(stream, seed, offset);
        } else {
            HOST.randomUniform(stream, seed, offset);
        }
        double[] s = stream.toDoubleArray();
        for (double v : s) {
            assertTrue(normal ? Double.isFinite(v) && Math.abs(v) < 8 : v >= 0 && v < 1, "stream value " + v);
        }
        Tensor[] r = t.run((b, a) -> {
            if (normal) {
                b.randomNormal(a[0], seed, offset);
            } else {
                b.randomUniform(a[0], seed, offset);
            }
        }, TestTensors.empty(dt, lay, 9, 13));
        double[] expect = Arrays.stream(s).map(v -> cast(dt, v)).toArray();
        // uniform numbers are 24-bit fractions, exact in F32 and F64; normals go through log/cos in double (the
        // last fp64 bit may differ between libms) and may round differently where a value sits on a tie
        double tol = !normal && (dt == DType.F32 || dt == DType.F64) ? 0 : t.tol(dt);
        assertClose((normal ? "randomNormal " : "randomUniform ") + dt, expect, r[0].toDoubleArray(), tol);
    }

    // ---- optimizer ----

    private static void adamw(Target t, Random rnd, DType dt, Layout lay) {
        Tensor p = random(rnd, DType.F32, Layout.CONTIGUOUS, 5, 33);
        Tensor g = random(rnd, DType.F32, lay, 5, 33);
        Tensor m = random(rnd, DType.F32, lay == Layout.BROADCAST ? Layout.NARROWED : lay, 0.1, 0, 5, 33);
        Tensor v = TestTensors.empty(DType.F32, lay, 5, 33);
        HOST.copy(random(rnd, DType.F32, Layout.CONTIGUOUS, 0.1, 0.5, 5, 33), v);
        HOST.unary(UnaryOp.ABS, v, v);
        double[][] expect = Reference.adamw(p.toDoubleArray(), g.toDoubleArray(), m.toDoubleArray(), v.toDoubleArray(),
            1e-3, 0.9, 0.999, 1e-8, 0.01, 7);
        Tensor[] r = t.run((b, a) -> b.adamwUpdate(a[0], a[1], a[2], a[3], 1e-3, 0.9, 0.999, 1e-8, 0.01, 7), p, g, m, v);
        assertClose("adamw param", expect[0], r[0].toDoubleArray(), 1e-6);
        assertClose("adamw m", expect[1], r[2].toDoubleArray(), 1e-6);
        assertClose("adamw v", expect[2], r[3].toDoubleArray(), 1e-6);
    }

    /**
     * Four blocks (the last partial), moments starting from random codes and absmaxes, one NaN and one infinite
     * gradient; contiguous only (the op's contract), so every layout runs the same case. Parameters and absmaxes match
     * the fp64 reference closely; a moment's code may land one step away from the reference's (fp32 against fp64 at a
     * midpoint), so the dequantized moments are compared within the map's widest gap.
     */
    private static void adamw8bit(Target t, Random rnd) {
        int n = 3 * DynamicQuant8.BLOCK + 37;
        int blocks = (int) DynamicQuant8.blocks(n);
        float[] mapM = DynamicQuant8.signedMap();
        float[] mapV = DynamicQuant8.unsignedMap();
        Tensor p = random(rnd, DType.F32, Layout.CONTIGUOUS, 7, n / 7);
        Tensor g = random(rnd, DType.F32, Layout.CONTIGUOUS, 1e-2, 0, 7, n / 7);
        g.setDouble(Double.NaN, 2, 5);
        g.setDouble(Double.POSITIVE_INFINITY, 6, 100);
        Tensor m = Tensor.zeros(DType.U8, 7, n / 7);
        Tensor v = Tensor.zeros(DType.U8, 7, n / 7);
        Tensor absM = Tensor.zeros(DType.F32, blocks);
        Tensor absV = Tensor.zeros(DType.F32, blocks);
        for (int i = 0; i < n; i++) {
            m.setDouble(rnd.nextInt(256), i / (n / 7), i % (n / 7));
            v.setDouble(rnd.nextInt(256), i / (n / 7), i % (n / 7));
        }
        for (int b = 0; b < blocks; b++) {
            absM.setDouble(1e-3 * (1 + rnd.nextDouble()), b);
            absV.setDouble(1e-5 * (1 + rnd.nextDouble()), b);
        }
        double lr = 1e-3;
        double[][] expect = Reference.adamw8bit(p.toDoubleArray(), g.toDoubleArray(), m.toDoubleArray(), v.toDoubleArray(),
            absM.toDoubleArray(), absV.toDoubleArray(), mapM, mapV, DynamicQuant8.BLOCK, lr, 0.9, 0.999, 1e-8, 0.01, 7);
        Tensor[] r = t.run((b, a) -> b.adamw8bitUpdate(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], lr, 0.9, 0.999,
            1e-8, 0.01, 7), p, g, m, v, absM, absV, Tensor.of(mapM, 256), Tensor.of(mapV, 256));
        assertClose("adamw8bit param", expect[0], r[0].toDoubleArray(), 1e-6);
        assertEquals(p.getDouble(2, 5), r[0].getDouble(2, 5), "a NaN gradient leaves its parameter");
        assertClose("adamw8bit absmax m", expect[3], r[4].toDoubleArray(), 1e-5);
        assertClose("adamw8bit absmax v", expect[4], r[5].toDoubleArray(), 1e-5);
        double gapM = widestGap(mapM);
        double gapV = widestGap(mapV);
        double[] codesM = r[2].toDoubleArray();
        double[] codesV = r[3].toDoubleArray();
        for (int i = 0; i < n; i++) {
            int b = i / DynamicQuant8.BLOCK;
            double wantM = mapM[(int) expect[1][i]] * expect[3][b];
            double gotM = mapM[(int) codesM[i]] * expect[3][b];
            assertTrue(Math.abs(wantM - gotM) <= gapM * expect[3][b],
                "adamw8bit m[" + i + "]: " + gotM + ", expected " + wantM);
            double wantV = mapV[(int) expect[2][i]] * expect[4][b];
            double gotV = mapV[(int) codesV[i]] * expect[4][b];
            assertTrue(Math.abs(wantV - gotV) <= gapV * expect[4][b], "adamw8bit v[" + i + "]: " + gotV + ", expected " + wantV);
        }
        for (long[] at : new long[][] {{2, 5}, {6, 100}}) {
            int i = (int) (at[0] * (n / 7) + at[1]);
            assertTrue(mapM[(int) codesM[i]] == 0 && mapV[(int) codesV[i]] == 0, "a non-finite gradient zeroes m and v");
        }
    }

    private static double widestGap(float[] map) {
        double gap = 0;
        for (int i = 1; i < map.length; i++) {
            gap = Math.max(gap, map[i] - map[i - 1]);
        }
        return gap;
    }
}
