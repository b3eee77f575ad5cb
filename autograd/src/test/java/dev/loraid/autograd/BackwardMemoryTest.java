package dev.loraid.autograd;

import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static dev.loraid.autograd.RandomTensors.f32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The backward pass gives a gradient's memory back once the node it was for has used it: a chain of n ops needs two
 * gradients at a time, not n; and a gradient a node passed on to two inputs (an add) is kept until both have used it.
 */
class BackwardMemoryTest {
    private static final int SIZE = 4096;
    private static final long BYTES = SIZE * 4L;

    @Test
    void aChainOfOpsHoldsTwoGradientsAtATimeNotOnePerOp() {
        long shortChain = backwardPeakOverForward(4);
        long longChain = backwardPeakOverForward(40);
        System.out.printf("backward peak over the forward's memory: %d bytes for 4 ops, %d for 40 (one gradient: %d)%n",
                shortChain, longChain, BYTES);
        assertTrue(longChain - shortChain < BYTES, "36 more ops added " + (longChain - shortChain) + " bytes to the "
                + "backward pass's peak: one gradient each (" + BYTES + " bytes) is not given back");
        assertTrue(shortChain <= 4 * BYTES, "4 ops: " + shortChain + " bytes over the forward's");
    }

    /** Bytes the backward pass of y = x·c₁·…·cₙ (x a leaf) adds at its peak to what the forward holds. */
    private static long backwardPeakOverForward(int n) {
        Var x = Var.leaf(f32(1, SIZE));
        Tensor seed = f32(2, SIZE);
        try (MemoryScope step = MemoryScope.open()) {
            Var y = x;
            for (int i = 0; i < n; i++) {
                y = y.mul(Var.constant(f32(10 + i, SIZE)));
            }
            long held = step.bytesInUse(Device.CPU);
            MemoryScope.resetPeak(Device.CPU);
            y.backward(seed);
            return MemoryScope.peakBytesInUse(Device.CPU) - held;
        }
    }

    /**
     * s = ((x ⊙ a)·W + x ⊙ b) ⊙ c, x [N, N]: the add hands the same gradient tensor g = seed ⊙ c (this pass's own) to
     * both branches; the short one runs first, and the product's backward then writes g·Wᵀ into new memory while it
     * reads g, so giving g back after the short branch would let the product overwrite what it still reads. x's
     * gradient must be (g·Wᵀ) ⊙ a + g ⊙ b.
     */
    @Test
    void aGradientPassedOnToTwoInputsIsKeptUntilBothHaveUsedIt() {
        int n = 320; // more than one K slice of the GEMM: the product reads g again after writing its first partial sums
        Tensor a = f32(21, n, n);
        Tensor b = f32(22, n, n);
        Tensor w = f32(23, n, n);
        Tensor c = f32(25, n, n);
        Tensor seed = f32(24, n, n);
        Var x = Var.leaf(f32(20, n, n));
        try (MemoryScope step = MemoryScope.open()) {
            Var product = x.mul(Var.constant(a)).matmul(Var.constant(w));
            product.add(x.mul(Var.constant(b))).mul(Var.constant(c)).backward(seed);
            float[] got = x.grad().toFloatArray();
            float[] aa = a.toFloatArray();
            float[] bb = b.toFloatArray();
            float[] ww = w.toFloatArray();
            float[] g = seed.toFloatArray();
            float[] cc = c.toFloatArray();
            for (int i = 0; i < g.length; i++) {
                g[i] *= cc[i];
            }
            float[] want = new float[n * n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    double gw = 0; // (g·Wᵀ)[i][j] = Σ_k g[i][k]·W[j][k]
                    for (int k = 0; k < n; k++) {
                        gw += (double) g[i * n + k] * ww[j * n + k];
                    }
                    want[i * n + j] = (float) (gw * aa[i * n + j] + (double) g[i * n + j] * bb[i * n + j]);
                }
            }
            assertArrayEquals(want, got, 1e-4f);
        }
    }

    /**
     * A leaf made inside the step (a recomputed block's detached input, a weight in a test) gets its gradient buffer from
     * the step's scope during the pass, and the linear layer writes W's gradient straight into it: that buffer is the
     * gradient, not a dead one, though the node returned it. Memory given back there would take the next gradient of
     * its size (x's here). W's gradient must be gᵀ·(x₀ ⊙ c).
     */
    @Test
    void aLeafGradientWrittenIntoItsBufferIsKept() {
        int n = 96;
        Tensor c = f32(31, n, n);
        Tensor seed = f32(32, n, n);
        try (MemoryScope step = MemoryScope.open()) {
            Var x0 = Var.leaf(f32(30, n, n));
            Var w = Var.leaf(f32(33, n, n));
            Ops.linear(x0.mul(Var.constant(c)), w, null).backward(seed);
            float[] got = w.grad().toFloatArray();
            float[] x = x0.data().toFloatArray();
            float[] cc = c.toFloatArray();
            float[] g = seed.toFloatArray();
            float[] want = new float[n * n];
            for (int o = 0; o < n; o++) {
                for (int i = 0; i < n; i++) {
                    double sum = 0; // dW[o][i] = Σ_r g[r][o]·x[r][i]·c[r][i]
                    for (int r = 0; r < n; r++) {
                        sum += (double) g[r * n + o] * x[r * n + i] * cc[r * n + i];
                    }
                    want[o * n + i] = (float) sum;
                }
            }
            assertArrayEquals(want, got, 1e-3f);
        }
    }
}
