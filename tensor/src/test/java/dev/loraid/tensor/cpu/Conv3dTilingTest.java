package dev.loraid.tensor.cpu;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.cpu.gemm.GemmTiling;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.loraid.tensor.cpu.TestTensors.assertClose;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The two forward paths at sizes the op cases do not reach. fp64 (the reference precision) runs im2col tiles: a
 * column-block budget far below one frame (tiles of one output row, crossing frame boundaries) gives the fp64
 * reference's result, so the tile arithmetic is checked without frames of real size; the backward tiles the same way
 * in every precision. fp32 packs the patches straight into the GEMM's panels ({@link ConvPatches}): frames wider than
 * several panels put panel edges inside output rows and runs that start and end in the padding.
 */
class Conv3dTilingTest {
    @Test
    void smallTilesMatchTheReference() {
        Random rnd = new Random(13);
        int[] xd = {1, 4, 3, 6, 7};
        int[] wd = {5, 4, 3, 3, 3};
        int[] stride = {1, 1, 1};
        int[] pad = {2, 0, 1, 1, 1, 1};
        Tensor x = TestTensors.random(rnd, DType.F64, TestTensors.Layout.CONTIGUOUS, 1, 4, 3, 6, 7);
        Tensor w = TestTensors.random(rnd, DType.F64, TestTensors.Layout.CONTIGUOUS, 5, 4, 3, 3, 3);
        Tensor b = TestTensors.random(rnd, DType.F64, TestTensors.Layout.CONTIGUOUS, 5);
        double[] expect = Reference.conv3d(x.toDoubleArray(), xd, w.toDoubleArray(), wd, b.toDoubleArray(), stride, pad);
        for (long budget : new long[] {1, 108 * 7 * 2 + 5, 108 * 7 * 5}) {
            Tensor out = Tensor.zeros(DType.F64, 1, 5, 3, 6, 7);
            Conv3d.forward(x, w, b, stride, pad, out, budget);
            assertClose("conv3d with a tile budget of " + budget, expect, out.toDoubleArray(), 1e-12);
        }
    }

    /**
     * fp32 and bf16 inputs 75 columns wide (several 32- or 16-wide panels per output row), unit and strided, with
     * padding on both sides: against the fp64 reference on the same (rounded) input values.
     */
    @Test
    void implicitPanelsInsideWideRowsMatchTheReference() {
        Random rnd = new Random(19);
        int[] xd = {2, 3, 2, 5, 75};
        int[] wd = {4, 3, 2, 3, 3};
        int[] pad = {1, 0, 1, 1, 2, 1};
        for (DType dt : new DType[] {DType.F32, DType.BF16}) {
            for (int[] stride : new int[][] {{1, 1, 1}, {1, 2, 2}}) {
                Tensor x = TestTensors.random(rnd, dt, TestTensors.Layout.CONTIGUOUS, 2, 3, 2, 5, 75);
                Tensor w = TestTensors.random(rnd, DType.F32, TestTensors.Layout.CONTIGUOUS, 4, 3, 2, 3, 3);
                Tensor b = TestTensors.random(rnd, DType.F32, TestTensors.Layout.CONTIGUOUS, 4);
                int to = (2 + 1 - 2) / stride[0] + 1;
                int ho = (5 + 2 - 3) / stride[1] + 1;
                int wo = (75 + 3 - 3) / stride[2] + 1;
                Tensor out = Tensor.zeros(DType.F32, 2, 4, to, ho, wo);
                Conv3d.forward(x, w, b, stride, pad, out);
                assertClose("conv3d " + dt + " stride " + java.util.Arrays.toString(stride),
                    Reference.conv3d(x.toDoubleArray(), xd, w.toDoubleArray(), wd, b.toDoubleArray(), stride, pad),
                    out.toDoubleArray(), 1e-5);
            }
        }
    }

    /**
     * More output channels than a GEMM row block (MC): the threads share the packed patches ({@code SharedPanelGemm}),
     * claiming several panels at a time, so a claim after the first packs at an offset into the shared block.
     */
    @Test
    void implicitPanelsSharedByThreadsMatchTheReference() {
        assumeTrue(Parallel.threads() > 1, "one thread: the shared-panel driver is not used");
        Random rnd = new Random(23);
        int o = GemmTiling.MC + 5;
        int[] xd = {1, 2, 2, 3, 70};
        int[] wd = {o, 2, 2, 3, 3};
        int[] stride = {1, 1, 1};
        int[] pad = {1, 0, 1, 1, 1, 1};
        Tensor x = TestTensors.random(rnd, DType.F32, TestTensors.Layout.CONTIGUOUS, 1, 2, 2, 3, 70);
        Tensor w = TestTensors.random(rnd, DType.F32, TestTensors.Layout.CONTIGUOUS, o, 2, 2, 3, 3);
        Tensor b = TestTensors.random(rnd, DType.F32, TestTensors.Layout.CONTIGUOUS, o);
        Tensor out = Tensor.zeros(DType.F32, 1, o, 2, 3, 70);
        Conv3d.forward(x, w, b, stride, pad, out);
        assertClose("conv3d with " + o + " output channels", Reference.conv3d(x.toDoubleArray(), xd, w.toDoubleArray(), wd,
            b.toDoubleArray(), stride, pad), out.toDoubleArray(), 1e-5);
    }

    /** The backward under the same budgets: dx, dWeight and dBias as the fp64 twin's, a stride-2 case included. */
    @Test
    void smallTilesBackwardMatchesTheReference() {
        Random rnd = new Random(17);
        int[] xd = {2, 3, 4, 7, 6};
        int[] wd = {5, 3, 3, 3, 2};
        int[] stride = {1, 2, 1};
        int[] pad = {2, 0, 1, 1, 0, 1};
        Tensor x = TestTensors.random(rnd, DType.F32, TestTensors.Layout.CONTIGUOUS, 2, 3, 4, 7, 6);
        Tensor w = TestTensors.random(rnd, DType.F32, TestTensors.Layout.CONTIGUOUS, 5, 3, 3, 3, 2);
        Tensor g = TestTensors.random(rnd, DType.F32, TestTensors.Layout.CONTIGUOUS, 2, 5, 4, 4, 6);
        double[][] expect = Reference.conv3dBackward(x.toDoubleArray(), xd, w.toDoubleArray(), wd, g.toDoubleArray(),
            stride, pad);
        for (long budget : new long[] {1, 54 * 6 * 3 + 1, 54 * 6 * 7}) {
            Tensor dx = Tensor.zeros(DType.F32, 2, 3, 4, 7, 6);
            Tensor dw = Tensor.zeros(DType.F32, 5, 3, 3, 3, 2);
            Tensor db = Tensor.zeros(DType.F32, 5);
            Conv3dBackward.backward(x, w, g, stride, pad, dx, dw, db, budget);
            assertClose("conv3d dx with a tile budget of " + budget, expect[0], dx.toDoubleArray(), 1e-5);
            assertClose("conv3d dWeight with a tile budget of " + budget, expect[1], dw.toDoubleArray(), 1e-5);
            assertClose("conv3d dBias with a tile budget of " + budget, expect[2], db.toDoubleArray(), 1e-5);
        }
    }
}
