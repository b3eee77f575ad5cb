package dev.loraid.tensor.cpu.gemm;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.cpu.Parallel;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * All-F64 matmul in plain double arithmetic, for autograd's finite-difference gradient checks: small shapes,
 * so a straightforward loop (rows spread over {@link Parallel}) rather than a tuned kernel.
 */
final class GemmF64 {
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private GemmF64() {
    }

    static void run(Gemm.Layout l, double alpha, double beta, Tensor bias) {
        StridedMatrix a = l.a();
        StridedMatrix b = l.b();
        StridedMatrix c = l.c();
        int m = a.rows();
        int k = a.cols();
        int n = b.cols();
        double[] biasValues = new double[n];
        for (int j = 0; bias != null && j < n; j++) {
            biasValues[j] = bias.getDouble(j);
        }
        int batches = l.cOffsets().length;
        Parallel.forRange((long) batches * m, 1, (from, to) -> {
            double[] row = new double[n];
            for (long t = from; t < to; t++) {
                int batch = (int) (t / m);
                int i = (int) (t % m);
                long aRow = l.aOffsets()[batch] + i * a.rowStride();
                long bBase = l.bOffsets()[batch];
                long cRow = l.cOffsets()[batch] + i * c.rowStride();
                Arrays.fill(row, 0);
                for (int p = 0; p < k; p++) {
                    double x = get(a.segment(), aRow + p * a.colStride());
                    long bRow = bBase + p * b.rowStride();
                    for (int j = 0; j < n; j++) {
                        row[j] += x * get(b.segment(), bRow + j * b.colStride());
                    }
                }
                for (int j = 0; j < n; j++) {
                    long at = (cRow + j * c.colStride()) * Double.BYTES;
                    double v = alpha * row[j] + biasValues[j];
                    if (beta != 0) {
                        v += beta * c.segment().get(F64, at);
                    }
                    c.segment().set(F64, at, v);
                }
            }
        });
    }

    private static double get(MemorySegment seg, long element) {
        return seg.get(F64, element * Double.BYTES);
    }
}
