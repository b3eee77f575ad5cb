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
 * gradients at a time, not n; a gradient a node passed on to two inputs (an add) is kept until both have used it; and a
 * value's first gradient becomes its running sum.
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

    /**
     * h = x ⊙ c feeds four linear layers: the first gradient that reaches h becomes its running sum and the other three
     * layers add into it (GEMM beta = 1), so the backward pass holds one [N, N] tensor for h, not the first two
     * gradients and their new sum at once. h's summed gradient must equal Σ g·Wᵢ, checked through x's.
     */
    @Test
    void aValuesFirstGradientIsItsRunningSum() {
        int n = 64;
        long bytes = (long) n * n * 4;
        Tensor c = f32(41, n, n);
        Tensor seed = f32(42, n, n);
        Tensor[] w = {f32(43, n, n), f32(44, n, n), f32(45, n, n), f32(46, n, n)};
        try (MemoryScope step = MemoryScope.open()) {
            Parameter x = Parameter.trainable(f32(40, n, n)); // its gradient lives outside the scope
            Var h = x.mul(Var.constant(c));
            Var y = null;
            for (Tensor wi : w) {
                Var o = Ops.linear(h, Var.constant(wi), null);
                y = y == null ? o : y.add(o);
            }
            long held = step.bytesInUse(Device.CPU);
            MemoryScope.resetPeak(Device.CPU);
            y.backward(seed);
            long over = MemoryScope.peakBytesInUse(Device.CPU) - held;
            // h's running sum and, at the end, the product's gradient for x; a new sum of the first two would make three
            assertTrue(over <= 2 * bytes, "backward peak " + over + " bytes over the forward's; one [N, N] tensor is " + bytes);
            float[] got = x.grad().toFloatArray();
            float[] g = seed.toFloatArray();
            float[] cc = c.toFloatArray();
            float[] want = new float[n * n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0; // dh[i][j] = Σ_w Σ_k g[i][k]·W[k][j] (y = h·Wᵀ)
                    for (Tensor wi : w) {
                        float[] ww = wi.toFloatArray();
                        for (int k = 0; k < n; k++) {
                            sum += (double) g[i * n + k] * ww[k * n + j];
                        }
                    }
                    want[i * n + j] = (float) (sum * cc[i * n + j]);
                }
            }
            assertArrayEquals(want, got, 1e-3f);
        }
    }

    /**
     * y = (b ⊙ c₅ + a ⊙ c₄) + (a + b) ⊙ c₃ with a = x ⊙ c₁, b = x ⊙ c₂: the add hands one tensor of this pass's own to
     * a and to b, and each has another consumer, run in between; that tensor must become neither's running sum (a's
     * other gradient added into it would change b's). x's gradient must be seed ⊙ (c₃ ⊙ (c₁ + c₂) + c₅ ⊙ c₂ + c₄ ⊙ c₁).
     */
    @Test
    void aGradientSharedByTwoValuesIsNoOnesRunningSum() {
        int n = 32;
        Tensor[] c = {f32(51, n, n), f32(52, n, n), f32(53, n, n), f32(54, n, n), f32(56, n, n)};
        Tensor seed = f32(55, n, n);
        try (MemoryScope step = MemoryScope.open()) {
            Var x = Var.leaf(f32(50, n, n));
            Var a = x.mul(Var.constant(c[0]));
            Var b = x.mul(Var.constant(c[1]));
            Var u = b.mul(Var.constant(c[4])).add(a.mul(Var.constant(c[3])));
            u.add(a.add(b).mul(Var.constant(c[2]))).backward(seed);
            float[] got = x.grad().toFloatArray();
            float[] g = seed.toFloatArray();
            float[][] cc = new float[c.length][];
            for (int i = 0; i < c.length; i++) {
                cc[i] = c[i].toFloatArray();
            }
            float[] want = new float[n * n];
            for (int i = 0; i < want.length; i++) {
                want[i] = (float) (g[i] * ((double) cc[2][i] * (cc[0][i] + cc[1][i]) + (double) cc[4][i] * cc[1][i]
                        + (double) cc[3][i] * cc[0][i]));
            }
            assertArrayEquals(want, got, 1e-5f);
        }
    }

    /**
     * A graph no one outside holds (a recomputed block's): once a value's node has run, its tensor is given back too, so
     * after the backward pass of a 30-op chain none of its activations is left, where a graph the caller holds keeps
     * them all. x's gradient must be seed ⊙ c₁ ⊙ … ⊙ c₃₀.
     */
    @Test
    void anInternalGraphsActivationsAreGivenBackAsItsNodesRun() {
        int ops = 30;
        Tensor[] c = new Tensor[ops];
        for (int i = 0; i < ops; i++) {
            c[i] = RandomTensors.uniform(60 + i, 0.5, 1.5, SIZE);
        }
        Tensor seed = f32(59, SIZE);
        for (boolean internal : new boolean[] {false, true}) {
            try (MemoryScope step = MemoryScope.open()) {
                Var x = Var.leaf(f32(58, SIZE));
                long before = step.bytesInUse(Device.CPU);
                long mark = MemoryScope.mark();
                Var y = x;
                for (Tensor ci : c) {
                    y = y.mul(Var.constant(ci));
                }
                Backprop.run(y, seed, internal ? mark : Backprop.HELD);
                long left = step.bytesInUse(Device.CPU) - before;
                if (internal) {
                    assertTrue(left <= 2 * BYTES, left + " bytes left after the backward pass (one tensor: " + BYTES + ")");
                } else {
                    assertTrue(left >= ops * BYTES, "a held graph keeps its activations: " + left + " bytes");
                }
                float[] want = seed.toFloatArray();
                for (int k = ops - 1; k >= 0; k--) { // in the backward pass's order
                    float[] cc = c[k].toFloatArray();
                    for (int i = 0; i < SIZE; i++) {
                        want[i] *= cc[i];
                    }
                }
                assertArrayEquals(want, x.grad().toFloatArray(), 1e-3f);
            }
        }
    }

    /**
     * In such a graph a view's tensor shares its input's storage: u = x ⊙ c₁ feeds u ⊙ u and a reshape of it, and the
     * reshape's node runs first; giving its storage back then would let the square's backward read memory reused in
     * between. x's gradient must be seed ⊙ (2·u + c₂) ⊙ c₁.
     */
    @Test
    void anInternalViewKeepsItsInputsStorage() {
        Tensor c1 = f32(70, SIZE);
        Tensor c2 = f32(71, SIZE);
        Tensor seed = f32(72, 64, 64);
        try (MemoryScope step = MemoryScope.open()) {
            Var x = Var.leaf(f32(73, SIZE));
            long mark = MemoryScope.mark();
            Var u = x.mul(Var.constant(c1));
            Var y = u.mul(u).reshape(64, 64).add(u.reshape(64, 64).mul(Var.constant(c2.reshape(64, 64))));
            Backprop.run(y, seed, mark);
            float[] xx = f32(73, SIZE).toFloatArray();
            float[] a = c1.toFloatArray();
            float[] b = c2.toFloatArray();
            float[] g = seed.toFloatArray();
            float[] want = new float[SIZE];
            for (int i = 0; i < SIZE; i++) {
                want[i] = (float) ((double) g[i] * (2.0 * xx[i] * a[i] + b[i]) * a[i]);
            }
            assertArrayEquals(want, x.grad().toFloatArray(), 1e-4f);
        }
    }
}
