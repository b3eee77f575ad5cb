package dev.loraid.autograd;

import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static dev.loraid.autograd.RandomTensors.f32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * {@code backward(seed)} with a seed that shares memory with a gradient the pass adds into (a leaf's own
 * gradient): the result must be what the same backward gives for a fresh copy of the seed, and what plain loops
 * compute. Without a defensive copy the accumulating GEMM / add reads the seed after overwriting it.
 */
class SeedAliasingTest {
    private static final int N = 67; // odd, and several GEMM tiles in each direction

    /** y = x·Wᵀ with W's gradient already g0ᵀ·x; then backward(W.grad): dW += seedᵀ·x with seed = dW itself. */
    @Test
    void seedThatIsTheWeightGradientOfALinear() {
        Tensor x0 = f32(1, N, N);
        Tensor g0 = f32(3, N, N);
        double[][] aliased = linearTwice(x0, g0, false);
        double[][] copied = linearTwice(x0, g0, true);
        assertArrayEquals(copied[0], aliased[0], 0, "dW with the gradient buffer as seed vs with a copy of it");
        assertArrayEquals(copied[1], aliased[1], 0, "dx with the gradient buffer as seed vs with a copy of it");

        // independently: after the first pass dW = G = g0ᵀ·x0 and dx = g0·W; the second, seeded S = G (read as
        // [rows, out]), adds Sᵀ·x0 to dW and S·W to dx
        double[][] x = rows(x0);
        double[][] g = rows(g0);
        double[][] w = rows(f32(2, N, N));
        double[][] gw = new double[N][N];
        for (int o = 0; o < N; o++) {
            for (int i = 0; i < N; i++) {
                for (int r = 0; r < N; r++) {
                    gw[o][i] += g[r][o] * x[r][i];
                }
            }
        }
        double[] dw = new double[N * N];
        double[] dx = new double[N * N];
        for (int a = 0; a < N; a++) {
            for (int b = 0; b < N; b++) {
                double sw = gw[a][b];
                double sx = 0;
                for (int r = 0; r < N; r++) {
                    sw += gw[r][a] * x[r][b];
                    sx += (g[a][r] + gw[a][r]) * w[r][b];
                }
                dw[a * N + b] = sw;
                dx[a * N + b] = sx;
            }
        }
        assertArrayEquals(dw, aliased[0], 1e-3, "dW against plain loops");
        assertArrayEquals(dx, aliased[1], 1e-3, "dx against plain loops");
    }

    /** Two backward passes through y = x·Wᵀ (x, W leaves [N, N]): the first seeded g0, the second W.grad. */
    private static double[][] linearTwice(Tensor x0, Tensor g0, boolean copySeed) {
        Var x = Var.leaf(x0);
        Parameter w = Parameter.trainable(f32(2, N, N));
        Ops.linear(x, w, null).backward(g0);
        Tensor seed = copySeed ? copy(w.grad()) : w.grad();
        Ops.linear(x, w, null).backward(seed);
        return new double[][] {w.grad().toDoubleArray(), x.grad().toDoubleArray()};
    }

    /** A leaf whose gradient is g0, backpropagated with its own gradient as seed: 2·g0 (it was left at g0). */
    @Test
    void leafSeededWithItsOwnGradient() {
        Tensor g0 = f32(4, 5, 7);
        Var x = Var.leaf(f32(5, 5, 7));
        x.backward(g0);
        x.backward(x.grad());
        double[] twice = g0.toDoubleArray();
        for (int i = 0; i < twice.length; i++) {
            twice[i] *= 2;
        }
        assertArrayEquals(twice, x.grad().toDoubleArray(), 0);
    }

    /** y = xᵀ seeded with x's own gradient g0: x.grad = g0 + g0ᵀ, an in-place add through a transposed alias. */
    @Test
    void transposeSeededWithTheInputsGradient() {
        Tensor g0 = f32(6, N, N);
        double[][] expected = new double[2][];
        for (int pass = 0; pass < 2; pass++) {
            Var x = Var.leaf(f32(7, N, N));
            x.backward(g0);
            Tensor seed = pass == 0 ? copy(x.grad()) : x.grad();
            x.transpose(0, 1).backward(seed);
            expected[pass] = x.grad().toDoubleArray();
        }
        assertArrayEquals(expected[0], expected[1], 0, "the gradient buffer as seed vs a copy of it");
        double[][] g = rows(g0);
        double[] sum = new double[N * N];
        for (int a = 0; a < N; a++) {
            for (int b = 0; b < N; b++) {
                sum[a * N + b] = (float) (g[a][b] + g[b][a]); // one F32 add: the rounded exact sum
            }
        }
        assertArrayEquals(sum, expected[1], 0, "g0 + g0ᵀ");
    }

    private static Tensor copy(Tensor t) {
        Tensor c = Tensor.empty(t.device(), t.dtype(), t.shape().toArray());
        c.backend().copy(t, c);
        return c;
    }

    private static double[][] rows(Tensor t) {
        double[] d = t.toDoubleArray();
        int cols = (int) t.size(1);
        double[][] r = new double[(int) t.size(0)][cols];
        for (int i = 0; i < r.length; i++) {
            System.arraycopy(d, i * cols, r[i], 0, cols);
        }
        return r;
    }
}
