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
}
