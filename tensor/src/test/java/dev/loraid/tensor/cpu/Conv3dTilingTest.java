package dev.loraid.tensor.cpu;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.loraid.tensor.cpu.TestTensors.assertClose;

/**
 * The implicit GEMM's tiling: a column-block budget far below one frame (tiles of one output row, crossing frame
 * boundaries) gives the fp64 reference's result, so the tile arithmetic is checked without frames of real size.
 */
class Conv3dTilingTest {
    @Test
    void smallTilesMatchTheReference() {
        Random rnd = new Random(13);
        int[] xd = {1, 4, 3, 6, 7};
        int[] wd = {5, 4, 3, 3, 3};
        int[] stride = {1, 1, 1};
        int[] pad = {2, 0, 1, 1, 1, 1};
        Tensor x = TestTensors.random(rnd, DType.F32, TestTensors.Layout.CONTIGUOUS, 1, 4, 3, 6, 7);
        Tensor w = TestTensors.random(rnd, DType.F32, TestTensors.Layout.CONTIGUOUS, 5, 4, 3, 3, 3);
        Tensor b = TestTensors.random(rnd, DType.F32, TestTensors.Layout.CONTIGUOUS, 5);
        double[] expect = Reference.conv3d(x.toDoubleArray(), xd, w.toDoubleArray(), wd, b.toDoubleArray(), stride, pad);
        for (long budget : new long[] {1, 108 * 7 * 2 + 5, 108 * 7 * 5}) {
            Tensor out = Tensor.zeros(DType.F32, 1, 5, 3, 6, 7);
            Conv3d.forward(x, w, b, stride, pad, out, budget);
            assertClose("conv3d with a tile budget of " + budget, expect, out.toDoubleArray(), 1e-5);
        }
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
