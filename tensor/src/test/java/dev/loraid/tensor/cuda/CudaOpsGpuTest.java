package dev.loraid.tensor.cuda;

import dev.loraid.tensor.cpu.TestTensors;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.loraid.tensor.cpu.TestTensors.Layout.CONTIGUOUS;
import static dev.loraid.tensor.cpu.TestTensors.Layout.NARROWED;
import static dev.loraid.tensor.cpu.TestTensors.Layout.TRANSPOSED;
import static dev.loraid.tensor.cuda.GpuHarness.check;
import static dev.loraid.tensor.cuda.GpuHarness.outs;
import static dev.loraid.tensor.cpu.TestTensors.random;
import static dev.loraid.tensor.cuda.GpuHarness.tolerance;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Every non-GEMM, non-attention op on cuda:0 against the CPU backend: odd shapes, strided views, several dtypes. */
class CudaOpsGpuTest {
    private final Random rnd = new Random(20261126);

    @BeforeEach
    void gpu() {
        GpuHarness.gpuOrSkip();
    }

    private static final DType[] FLOATS = {DType.F32, DType.BF16, DType.F16, DType.F64};

    @Test
    void copyCastsStridesAndBroadcasts() {
        DType[] types = {DType.F32, DType.BF16, DType.F16, DType.F8_E4M3, DType.F8_E5M2, DType.F64, DType.I64, DType.I32};
        for (DType from : types) {
            for (DType to : types) {
                Tensor src = random(rnd, from, TRANSPOSED, 3.0, 0.0, 5, 7, 3);
                Tensor dst = TestTensors.empty(to, NARROWED, 5, 7, 3);
                check("copy " + from + "->" + to, 0, new Tensor[] {src, dst}, outs(1), (b, t) -> b.copy(t[0], t[1]));
            }
        }
        Tensor row = random(rnd, DType.F32, CONTIGUOUS, 1, 9);
        check("broadcast copy", 0, new Tensor[] {row, TestTensors.empty(DType.BF16, TRANSPOSED, 4, 9)}, outs(1),
            (b, t) -> b.copy(t[0], t[1]));
        Tensor big = Tensor.ofLongs(new long[] {Long.MAX_VALUE - 3, -5, 1L << 60}, 3);
        check("exact I64", 0, new Tensor[] {big, Tensor.zeros(DType.I64, 3)}, outs(1), (b, t) -> b.copy(t[0], t[1]));
    }

    @Test
    void hostDeviceRoundTripKeepsEveryBit() {
        Tensor host = random(rnd, DType.BF16, TRANSPOSED, 6, 11);
        Tensor back = host.to(GpuHarness.GPU).to(dev.loraid.tensor.Device.CPU);
        TestTensors.assertClose("round trip", host.toDoubleArray(), back.toDoubleArray(), 0);
    }

    @Test
    void fillAndGather() {
        for (DType t : new DType[] {DType.F32, DType.BF16, DType.I64, DType.F8_E4M3}) {
            check("fill " + t, 0, new Tensor[] {TestTensors.empty(t, NARROWED, 3, 5)}, outs(0), (b, x) -> b.fill(x[0], -2.75));
        }
        Tensor table = random(rnd, DType.BF16, NARROWED, 13, 6);
        Tensor ids = Tensor.ofLongs(new long[] {12, 0, 5, 5, 7}, 5);
        check("gatherRows", 0, new Tensor[] {table, ids, TestTensors.empty(DType.F32, TRANSPOSED, 5, 6)}, outs(2),
            (b, t) -> b.gatherRows(t[0], t[1], t[2]));
        Tensor bad = GpuHarness.mirror(Tensor.ofLongs(new long[] {1, 13}, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> GpuHarness.mirror(table).backend()
            .gatherRows(GpuHarness.mirror(table), bad, Tensor.empty(GpuHarness.GPU, DType.F32, 2, 6)));
    }

    @Test
    void unaryAndItsBackward() {
        for (UnaryOp op : UnaryOp.values()) {
            boolean positive = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT || op == UnaryOp.RECIPROCAL;
            for (DType t : FLOATS) {
                Tensor x = random(rnd, t, TRANSPOSED, positive ? 0.3 : 1.5, positive ? 2 : 0, 7, 5);
                Tensor g = random(rnd, t, NARROWED, 7, 5);
                check(op + " " + t, tolerance(t), new Tensor[] {x, TestTensors.empty(t, NARROWED, 7, 5)}, outs(1),
                    (b, a) -> b.unary(op, a[0], a[1]));
                check(op + " backward " + t, tolerance(t), new Tensor[] {x, g, TestTensors.empty(t, CONTIGUOUS, 7, 5)},
                    outs(2), (b, a) -> b.unaryBackward(op, a[0], a[1], a[2]));
            }
        }
    }

    /**
     * Contiguous outputs with contiguous, row-vector ([C] over [L, C]) and single-value operands take the
     * vectorized kernels (VecLaunch, loraid_vec.cuh); a count that is not a multiple of 8 takes the strided ones.
     */
    @Test
    void vectorizedElementwiseMatchesTheCpu() {
        for (long cols : new long[] {16, 15}) {
            for (DType t : new DType[] {DType.BF16, DType.F16, DType.F32}) {
                Tensor x = random(rnd, t, CONTIGUOUS, 6, cols);
                Tensor row = random(rnd, DType.F32, CONTIGUOUS, 0.5, 1.0, cols);
                Tensor one = random(rnd, DType.F32, CONTIGUOUS, 1);
                String what = t + " [6, " + cols + "]";
                for (BinaryOp op : new BinaryOp[] {BinaryOp.ADD, BinaryOp.MUL, BinaryOp.DIV, BinaryOp.MAX, BinaryOp.GT}) {
                    check(op + " row " + what, tolerance(t), new Tensor[] {x, row, Tensor.zeros(t, 6, cols)}, outs(2),
                        (b, a) -> b.binary(op, a[0], a[1], a[2]));
                    check(op + " single " + what, tolerance(t), new Tensor[] {one, x, Tensor.zeros(t, 6, cols)}, outs(2),
                        (b, a) -> b.binary(op, a[0], a[1], a[2]));
                }
                check("GELU " + what, tolerance(t), new Tensor[] {x, Tensor.zeros(t, 6, cols)}, outs(1),
                    (b, a) -> b.unary(UnaryOp.GELU_TANH, a[0], a[1]));
                check("GELU backward " + what, tolerance(t), new Tensor[] {x, x, Tensor.zeros(t, 6, cols)}, outs(2),
                    (b, a) -> b.unaryBackward(UnaryOp.GELU_TANH, a[0], a[1], a[2]));
                check("scalar MUL " + what, tolerance(t), new Tensor[] {x, Tensor.zeros(t, 6, cols)}, outs(1),
                    (b, a) -> b.binaryScalar(BinaryOp.MUL, a[0], -0.375, a[1]));
                check("addScaled " + what, tolerance(t), new Tensor[] {x, row, Tensor.zeros(t, 6, cols)}, outs(2),
                    (b, a) -> b.addScaled(a[0], 0.5, a[1], -3, a[2]));
                for (DType to : new DType[] {DType.BF16, DType.F16, DType.F32}) {
                    check("copy " + what + " to " + to, 0, new Tensor[] {x, Tensor.zeros(to, 6, cols)}, outs(1),
                        (b, a) -> b.copy(a[0], a[1]));
                }
                check("copy row " + what, 0, new Tensor[] {row, Tensor.zeros(t, 6, cols)}, outs(1),
                    (b, a) -> b.copy(a[0], a[1]));
            }
        }
    }

    @Test
    void binaryScalarAndAxpbyBroadcast() {
        for (BinaryOp op : BinaryOp.values()) {
            for (DType t : new DType[] {DType.F32, DType.BF16, DType.F64}) {
                double shift = op == BinaryOp.POW ? 2 : 0;
                Tensor a = random(rnd, t, TRANSPOSED, 1, shift, 3, 1, 5).expand(3, 4, 5);
                Tensor bb = random(rnd, t, NARROWED, 1.0, op == BinaryOp.DIV ? 3.0 : 0.0, 4, 5);
                check(op + " " + t, tolerance(t), new Tensor[] {a, bb, TestTensors.empty(t, NARROWED, 3, 4, 5)}, outs(2),
                    (b, x) -> b.binary(op, x[0], x[1], x[2]));
                check(op + " scalar " + t, tolerance(t), new Tensor[] {bb, TestTensors.empty(t, TRANSPOSED, 4, 5)}, outs(1),
                    (b, x) -> b.binaryScalar(op, x[0], 1.75, x[1]));
            }
        }
        Tensor a = random(rnd, DType.BF16, TRANSPOSED, 6, 10);
        Tensor c = random(rnd, DType.F32, CONTIGUOUS, 10);
        check("addScaled", 1e-5, new Tensor[] {a, c, TestTensors.empty(DType.F32, NARROWED, 6, 10)}, outs(2),
            (b, x) -> b.addScaled(x[0], 0.5, x[1], -3, x[2]));
    }

    @Test
    void reductionsOverAnyDimensions() {
        int[][] dimSets = {{1}, {0, 2}, {0, 1, 2}, {2}};
        for (ReduceOp op : ReduceOp.values()) {
            for (int[] dims : dimSets) {
                for (DType t : new DType[] {DType.F32, DType.BF16, DType.F64}) {
                    Tensor x = random(rnd, t, TRANSPOSED, 3, 37, 5);
                    long[] os = {3, 37, 5};
                    for (int d : dims) {
                        os[d] = 1;
                    }
                    double tol = t == DType.BF16 ? 2e-2 : t == DType.F64 ? 1e-9 : 1e-4;
                    check(op + " " + java.util.Arrays.toString(dims) + " " + t, tol,
                        new Tensor[] {x, TestTensors.empty(t == DType.F64 ? t : DType.F32, CONTIGUOUS, os)}, outs(1),
                        (b, a) -> b.reduce(op, a[0], dims, a[1]));
                }
            }
        }
    }

    @Test
    void softmaxAndNormsForwardAndBackward() {
        for (DType t : FLOATS) {
            double tol = tolerance(t);
            Tensor x = random(rnd, t, NARROWED, 2, 0.5, 3, 4, 45);
            Tensor dy = random(rnd, t, TRANSPOSED, 3, 4, 45);
            check("softmax " + t, tol, new Tensor[] {x, TestTensors.empty(t, CONTIGUOUS, 3, 4, 45)}, outs(1),
                (b, a) -> b.softmax(a[0], a[1]));
            Tensor y = Tensor.empty(t, 3, 4, 45);
            dev.loraid.tensor.Backends.cpu().softmax(x, y);
            check("softmaxBackward " + t, tol, new Tensor[] {y, dy, TestTensors.empty(t, NARROWED, 3, 4, 45)}, outs(2),
                (b, a) -> b.softmaxBackward(a[0], a[1], a[2]));
            Tensor w = random(rnd, t, NARROWED, 0.2, 1, 45);
            Tensor bias = random(rnd, t, CONTIGUOUS, 45);
            Tensor[] ln = {x, w, bias, TestTensors.empty(t, TRANSPOSED, 3, 4, 45), Tensor.zeros(DType.F32, 12),
                Tensor.zeros(DType.F32, 3, 4)};
            check("layerNorm " + t, tol, ln, outs(3, 4, 5), (b, a) -> b.layerNorm(a[0], a[1], a[2], 1e-5, a[3], a[4], a[5]));
            check("layerNorm no affine " + t, tol, new Tensor[] {x, TestTensors.empty(t, CONTIGUOUS, 3, 4, 45)}, outs(1),
                (b, a) -> b.layerNorm(a[0], null, null, 1e-6, a[1], null, null));
            Tensor mean = Tensor.empty(DType.F32, 12);
            Tensor rstd = Tensor.empty(DType.F32, 12);
            dev.loraid.tensor.Backends.cpu().layerNorm(x, w, bias, 1e-5, Tensor.empty(t, 3, 4, 45), mean, rstd);
            // the parameter gradients in F64 too for F64 (Backend: fp64 math only when every tensor is F64)
            DType paramGrad = t == DType.F64 ? DType.F64 : DType.F32;
            check("layerNormBackward " + t, tol * 4, new Tensor[] {x, w, mean, rstd, dy, TestTensors.empty(t, NARROWED, 3, 4, 45),
                Tensor.zeros(t, 45), Tensor.zeros(paramGrad, 45)}, outs(5, 6, 7),
                (b, a) -> b.layerNormBackward(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]));
            check("rmsNorm " + t, tol, new Tensor[] {x, w, TestTensors.empty(t, CONTIGUOUS, 3, 4, 45), Tensor.zeros(DType.F32, 12)},
                outs(2, 3), (b, a) -> b.rmsNorm(a[0], a[1], 1e-6, a[2], a[3]));
            dev.loraid.tensor.Backends.cpu().rmsNorm(x, w, 1e-6, Tensor.empty(t, 3, 4, 45), rstd);
            check("rmsNormBackward " + t, tol * 4, new Tensor[] {x, w, rstd, dy, TestTensors.empty(t, CONTIGUOUS, 3, 4, 45),
                Tensor.zeros(paramGrad, 45)}, outs(4, 5), (b, a) -> b.rmsNormBackward(a[0], a[1], a[2], a[3], a[4], a[5]));
        }
    }

    /** Contiguous 16-bit and fp32 rows take the row-in-registers kernels (layer_norm_vec): short rows and long ones. */
    @Test
    void normsWithRowsInRegisters() {
        for (long d : new long[] {40, 2056, 5120}) {
            for (DType t : new DType[] {DType.BF16, DType.F16, DType.F32}) {
                double tol = tolerance(t) * 2;
                Tensor x = random(rnd, t, CONTIGUOUS, 2.0, 0.5, 3, d);
                Tensor dy = random(rnd, t, CONTIGUOUS, 3, d);
                Tensor w = random(rnd, DType.F32, CONTIGUOUS, 0.2, 1.0, d);
                Tensor bias = random(rnd, t, CONTIGUOUS, d);
                String what = t + " [3, " + d + "]";
                check("layerNorm " + what, tol, new Tensor[] {x, w, bias, Tensor.zeros(t, 3, d), Tensor.zeros(DType.F32, 3),
                    Tensor.zeros(DType.F32, 3)}, outs(3, 4, 5), (b, a) -> b.layerNorm(a[0], a[1], a[2], 1e-5, a[3], a[4], a[5]));
                check("rmsNorm " + what, tol, new Tensor[] {x, w, Tensor.zeros(t, 3, d), Tensor.zeros(DType.F32, 3)},
                    outs(2, 3), (b, a) -> b.rmsNorm(a[0], a[1], 1e-6, a[2], a[3]));
                Tensor mean = Tensor.empty(DType.F32, 3);
                Tensor rstd = Tensor.empty(DType.F32, 3);
                dev.loraid.tensor.Backends.cpu().layerNorm(x, null, null, 1e-6, Tensor.empty(t, 3, d), mean, rstd);
                check("layerNormBackward " + what, tol * 4, new Tensor[] {x, mean, rstd, dy, Tensor.zeros(t, 3, d)},
                    outs(4), (b, a) -> b.layerNormBackward(a[0], null, a[1], a[2], a[3], a[4], null, null));
                dev.loraid.tensor.Backends.cpu().rmsNorm(x, w, 1e-6, Tensor.empty(t, 3, d), rstd);
                check("rmsNormBackward " + what, tol * 4, new Tensor[] {x, w, rstd, dy, Tensor.zeros(t, 3, d)}, outs(4),
                    (b, a) -> b.rmsNormBackward(a[0], a[1], a[2], a[3], a[4], null));
            }
        }
    }

    @Test
    void ropeForwardAndInverse() {
        for (long d : new long[] {10, 16}) { // D = 16 with contiguous x and out takes rope_vec (8 elements a thread)
            for (DType t : new DType[] {DType.F32, DType.BF16, DType.F64}) {
                Tensor x = random(rnd, t, CONTIGUOUS, 2, 7, 3, d);
                Tensor xs = random(rnd, t, NARROWED, 2, 7, 3, d);
                Tensor cos = random(rnd, DType.F64, CONTIGUOUS, 7, d / 2);
                // mixed table dtypes run in fp32; all-F64 (the gradient-check case) in fp64 (Backend: precision)
                Tensor sin = random(rnd, t == DType.F64 ? DType.F64 : DType.F32, CONTIGUOUS, 7, d / 2);
                for (boolean inverse : new boolean[] {false, true}) {
                    for (Tensor in : new Tensor[] {x, xs}) {
                        for (Tensor out : new Tensor[] {TestTensors.empty(t, NARROWED, 2, 7, 3, d), Tensor.zeros(t, 2, 7, 3, d)}) {
                            check("rope " + t + " D=" + d + " inverse=" + inverse, tolerance(t), new Tensor[] {in, cos, sin,
                                out}, outs(3), (b, a) -> b.rope(a[0], a[1], a[2], inverse, a[3]));
                        }
                    }
                }
            }
        }
    }

    @Test
    void randomStreamsMatchTheCpuBitForBit() {
        for (DType t : new DType[] {DType.F32, DType.F64, DType.BF16}) {
            check("uniform " + t, 0, new Tensor[] {TestTensors.empty(t, TRANSPOSED, 9, 13)}, outs(0),
                (b, a) -> b.randomUniform(a[0], 0x1234_5678_9abcL, 77));
            // normals go through log/cos in double: CUDA's and Java's libm may differ in the last fp64 bit
            check("normal " + t, t == DType.F64 ? 1e-13 : t == DType.F32 ? 1e-6 : 8e-3, new Tensor[] {TestTensors.empty(t, NARROWED, 9, 13)}, outs(0),
                (b, a) -> b.randomNormal(a[0], -42, (1L << 33) + 3));
        }
    }

    @Test
    void adamwMatchesTheCpu() {
        Tensor p = random(rnd, DType.F32, CONTIGUOUS, 5, 33);
        Tensor g = random(rnd, DType.F32, TRANSPOSED, 5, 33);
        Tensor m = random(rnd, DType.F32, NARROWED, 0.1, 0, 5, 33);
        Tensor v = random(rnd, DType.F32, CONTIGUOUS, 0.1, 0.5, 5, 33);
        check("adamw", 1e-6, new Tensor[] {p, g, m, v}, outs(0, 2, 3),
            (b, a) -> b.adamwUpdate(a[0], a[1], a[2], a[3], 1e-3, 0.9, 0.999, 1e-8, 0.01, 7));
    }
}
