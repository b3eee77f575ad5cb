package dev.loraid.tensor.cuda;

import dev.loraid.tensor.cpu.TestTensors;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.loraid.tensor.cpu.TestTensors.Layout.CONTIGUOUS;
import static dev.loraid.tensor.cpu.TestTensors.Layout.NARROWED;
import static dev.loraid.tensor.cpu.TestTensors.Layout.TRANSPOSED;
import static dev.loraid.tensor.cuda.GpuHarness.check;
import static dev.loraid.tensor.cuda.GpuHarness.outs;
import static dev.loraid.tensor.cpu.TestTensors.random;
import static dev.loraid.tensor.cuda.GpuHarness.tolerance;

/**
 * The CUDA launch paths the op table (BackendOpsTest, whose {@code cuda} cases cover every op against the fp64
 * references) does not reach with its shapes: the vectorized elementwise, norm and rope kernels, and the full
 * cast matrix of copy (FP8 and integer destinations), each against the CPU backend.
 */
@Tag("gpu")
class CudaOpsGpuTest {
    private final Random rnd = new Random(20261126);

    @BeforeEach
    void gpu() {
        GpuHarness.gpuOrSkip();
    }

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
}
