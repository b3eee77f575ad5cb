package dev.loraid.tensor.cpu.gemm;

import dev.loraid.tensor.Tensor;

import java.util.Arrays;

/**
 * The plain triple loop in double that the GEMM is checked against: {@code alpha·(a @ b) + beta·c0 + bias}
 * with batch broadcasting, reading every operand through its logical indices (so any strides work). Also
 * returns, per element, the sum of the magnitudes of all terms, which bounds the fp32 rounding error.
 */
final class GemmReference {
    final double[] values;
    final double[] magnitudes;

    private GemmReference(double[] values, double[] magnitudes) {
        this.values = values;
        this.magnitudes = magnitudes;
    }

    /** {@code c0} holds c's contents before the call (only read when beta != 0). */
    static GemmReference of(Tensor a, Tensor b, double[] c0, double alpha, double beta, Tensor bias, long[] cDims) {
        int rank = cDims.length;
        long[] batchDims = Arrays.copyOf(cDims, rank - 2);
        int m = (int) a.size(-2);
        int k = (int) a.size(-1);
        int n = (int) b.size(-1);
        double[] av = a.expand(with(batchDims, m, k)).toDoubleArray();
        double[] bv = b.expand(with(batchDims, k, n)).toDoubleArray();
        double[] biasV = bias == null ? new double[n] : bias.toDoubleArray();
        int batches = (int) Arrays.stream(batchDims).reduce(1, (x, y) -> x * y);
        double[] out = new double[batches * m * n];
        double[] mag = new double[out.length];
        for (int t = 0; t < batches; t++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    double abs = 0;
                    for (int p = 0; p < k; p++) {
                        double prod = av[(t * m + i) * k + p] * bv[(t * k + p) * n + j];
                        sum += prod;
                        abs += Math.abs(prod);
                    }
                    int at = (t * m + i) * n + j;
                    double old = beta == 0 ? 0 : beta * c0[at];
                    out[at] = alpha * sum + old + biasV[j];
                    mag[at] = Math.abs(alpha) * abs + Math.abs(old) + Math.abs(biasV[j]);
                }
            }
        }
        return new GemmReference(out, mag);
    }

    private static long[] with(long[] batch, long rows, long cols) {
        long[] d = Arrays.copyOf(batch, batch.length + 2);
        d[batch.length] = rows;
        d[batch.length + 1] = cols;
        return d;
    }
}
