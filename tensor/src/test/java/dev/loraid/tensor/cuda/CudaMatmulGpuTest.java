package dev.loraid.tensor.cuda;

import dev.loraid.tensor.cpu.TestTensors;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.loraid.tensor.cpu.TestTensors.Layout.CONTIGUOUS;
import static dev.loraid.tensor.cpu.TestTensors.Layout.NARROWED;
import static dev.loraid.tensor.cpu.TestTensors.Layout.TRANSPOSED;
import static dev.loraid.tensor.cpu.TestTensors.random;

/**
 * cuBLASLt GEMMs against a plain fp64 triple loop (the reference twin): transposed and padded operands, broadcast
 * batches, alpha/beta, bias, narrow inputs with fp32 accumulation, FP8 weights, and outputs cuBLASLt cannot write
 * directly.
 */
@Tag("gpu")
class CudaMatmulGpuTest {
    private final Random rnd = new Random(11);

    @BeforeEach
    void gpu() {
        GpuHarness.gpuOrSkip();
    }

    /** c = alpha·a@b + beta·c + bias over broadcast batch dims, in fp64. */
    static double[] reference(Tensor a, Tensor b, Tensor c, double alpha, double beta, Tensor bias) {
        long m = c.size(-2);
        long n = c.size(-1);
        long k = a.size(-1);
        long[] batch = java.util.Arrays.copyOf(c.shape().toArray(), c.rank() - 2);
        long[] ad = batch.clone();
        Tensor ea = a.expand(concat(batch, m, k));
        Tensor eb = b.expand(concat(batch, k, n));
        double[] av = ea.toDoubleArray();
        double[] bv = eb.toDoubleArray();
        double[] cv = c.toDoubleArray();
        double[] biasv = bias == null ? null : bias.toDoubleArray();
        long batches = ad.length == 0 ? 1 : java.util.Arrays.stream(ad).reduce(1, (x, y) -> x * y);
        double[] out = new double[cv.length];
        for (int bi = 0; bi < batches; bi++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        s += av[(int) (bi * m * k + i * k + p)] * bv[(int) (bi * k * n + p * n + j)];
                    }
                    int o = (int) (bi * m * n + i * n + j);
                    out[o] = alpha * s + (beta == 0 ? 0 : beta * cv[o]) + (biasv == null ? 0 : biasv[j]);
                }
            }
        }
        return out;
    }

    private static long[] concat(long[] batch, long r, long c) {
        long[] d = java.util.Arrays.copyOf(batch, batch.length + 2);
        d[batch.length] = r;
        d[batch.length + 1] = c;
        return d;
    }

    private void check(String what, Tensor a, Tensor b, Tensor c, double alpha, double beta, Tensor bias, double tol) {
        double[] expected = reference(a, b, c, alpha, beta, bias);
        Tensor dc = GpuHarness.mirror(c);
        dc.backend().matmul(GpuHarness.mirror(a), GpuHarness.mirror(b), dc, alpha, beta, GpuHarness.mirror(bias));
        TestTensors.assertClose(what, expected, dc.toDoubleArray(), tol);
    }

    @Test
    void layoutsBatchesAndEpilogues() {
        check("f32 plain", random(rnd, DType.F32, CONTIGUOUS, 37, 53), random(rnd, DType.F32, CONTIGUOUS, 53, 29),
            Tensor.zeros(DType.F32, 37, 29), 1, 0, null, 1e-4);
        check("f32 transposed weight, padded a, bias, beta", random(rnd, DType.F32, NARROWED, 17, 40),
            random(rnd, DType.F32, TRANSPOSED, 40, 23), random(rnd, DType.F32, CONTIGUOUS, 17, 23), 0.5, -1.5,
            random(rnd, DType.F32, CONTIGUOUS, 23), 1e-4);
        check("batched a, shared 2-D b", random(rnd, DType.F32, CONTIGUOUS, 3, 5, 9, 16),
            random(rnd, DType.F32, TRANSPOSED, 16, 12), Tensor.zeros(DType.F32, 3, 5, 9, 12), 1, 0, null, 1e-4);
        check("broadcast batch of a", random(rnd, DType.F32, CONTIGUOUS, 1, 9, 16),
            random(rnd, DType.F32, CONTIGUOUS, 4, 16, 12), Tensor.zeros(DType.F32, 4, 9, 12), 1, 0, null, 1e-4);
        check("f64", random(rnd, DType.F64, TRANSPOSED, 13, 21), random(rnd, DType.F64, CONTIGUOUS, 21, 8),
            Tensor.zeros(DType.F64, 13, 8), 2, 0, null, 1e-12);
        check("K = 0 scales c", Tensor.zeros(DType.F32, 4, 0), Tensor.zeros(DType.F32, 0, 3),
            random(rnd, DType.F32, CONTIGUOUS, 4, 3), 1, 2, null, 1e-6);
    }

    @Test
    void narrowInputsAccumulateInFp32() {
        check("bf16 -> f32", random(rnd, DType.BF16, CONTIGUOUS, 64, 320), random(rnd, DType.BF16, TRANSPOSED, 320, 96),
            Tensor.zeros(DType.F32, 64, 96), 1, 0, null, 1e-4);
        check("bf16 -> bf16 with bias", random(rnd, DType.BF16, CONTIGUOUS, 31, 128),
            random(rnd, DType.BF16, TRANSPOSED, 128, 48), Tensor.zeros(DType.BF16, 31, 48), 1, 0,
            random(rnd, DType.BF16, CONTIGUOUS, 48), 1.6e-2);
        check("f16 -> f32", random(rnd, DType.F16, NARROWED, 19, 64), random(rnd, DType.F16, CONTIGUOUS, 64, 40),
            Tensor.zeros(DType.F32, 19, 40), 1, 0, null, 1e-3);
        check("f32 activations x bf16 weight", random(rnd, DType.F32, CONTIGUOUS, 12, 48),
            random(rnd, DType.BF16, TRANSPOSED, 48, 20), Tensor.zeros(DType.F32, 12, 20), 1, 0, null, 1e-4);
        check("bf16 x fp8 weight (alpha carries the scale)", random(rnd, DType.BF16, CONTIGUOUS, 16, 64),
            random(rnd, DType.F8_E4M3, TRANSPOSED, 64, 32), Tensor.zeros(DType.F32, 16, 32), 0.25, 0, null, 1e-3);
        check("f32 into a transposed c", random(rnd, DType.F32, CONTIGUOUS, 10, 7), random(rnd, DType.F32, CONTIGUOUS, 7, 6),
            TestTensors.empty(DType.F32, TRANSPOSED, 10, 6), 1, 0, null, 1e-4);
    }
}
