package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Precision;
import dev.loraid.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;

import static dev.loraid.tensor.cpu.Lanes.F;
import static dev.loraid.tensor.cpu.Lanes.VL;

/**
 * Rotary embedding on interleaved channel pairs (spec wan.md §2.8: pair j is channels (2j, 2j+1) = (real, imag),
 * not rotate-half): {@code out[2j] = a·cos − b·sin, out[2j+1] = a·sin + b·cos}. x [..., L, H, D], cos/sin [L, D/2].
 * The fp32 path expands token l's table to full width once per token (c c | −s s) and rotates every head with
 * two multiplies and a pair-swap shuffle.
 */
final class CpuRope {
    private static final VectorShuffle<Float> PAIR_SWAP = VectorShuffle.fromOp(F, i -> i ^ 1);

    private CpuRope() {
    }

    static void apply(Tensor x, Tensor cos, Tensor sin, boolean inverse, Tensor out) {
        Checks.sameShape(x, out, "rope out");
        if (x.rank() < 3) {
            throw new IllegalArgumentException("rope input has shape " + x.shape() + ", expected [..., L, H, D]");
        }
        int d = (int) x.size(-1);
        long h = x.size(-2);
        long len = x.size(-3);
        if (d % 2 != 0) {
            throw new IllegalArgumentException("rope input has odd last dimension " + d + " in " + x.shape());
        }
        Checks.shape(cos, "rope cos", len, d / 2);
        Checks.shape(sin, "rope sin", len, d / 2);
        double sign = inverse ? -1 : 1;
        MemorySegment xs = x.storage().segment();
        MemorySegment os = out.storage().segment();
        long sx = x.stride(-1);
        long so = out.stride(-1);
        Rows rows = Rows.of(x, out);
        int chunks = rows.chunks();
        if (Precision.fp64(x, cos, sin, out)) {
            Parallel.forEach(chunks, ch -> {
                double[] c = new double[d / 2];
                double[] s = new double[d / 2];
                double[] v = new double[d];
                rows.forChunk(ch, chunks, (r, b) -> {
                    long l = (r / h) % len;
                    loadRow(cos, l, c);
                    loadRow(sin, l, s);
                    Lanes.load(xs, x.dtype(), b[0], sx, v, 0, d);
                    for (int j = 0; j < d / 2; j++) {
                        double a = v[2 * j];
                        double im = v[2 * j + 1];
                        double sj = sign * s[j];
                        v[2 * j] = a * c[j] - im * sj;
                        v[2 * j + 1] = a * sj + im * c[j];
                    }
                    Lanes.store(v, 0, d, os, out.dtype(), b[1], so);
                });
            });
            return;
        }
        int p = Lanes.padded(d);
        Parallel.forEach(chunks, ch -> {
            float[] c = new float[d / 2];
            float[] s = new float[d / 2];
            float[] cw = new float[p];
            float[] sw = new float[p];
            float[] v = new float[p];
            long[] tableOf = {-1};
            rows.forChunk(ch, chunks, (r, b) -> {
                long l = (r / h) % len;
                if (l != tableOf[0]) {
                    Lanes.load(cos.storage().segment(), cos.dtype(), cos.offset() + l * cos.stride(0), cos.stride(1), c, 0, d / 2);
                    Lanes.load(sin.storage().segment(), sin.dtype(), sin.offset() + l * sin.stride(0), sin.stride(1), s, 0, d / 2);
                    for (int j = 0; j < d / 2; j++) {
                        float sj = (float) (sign * s[j]);
                        cw[2 * j] = c[j];
                        cw[2 * j + 1] = c[j];
                        sw[2 * j] = -sj;
                        sw[2 * j + 1] = sj;
                    }
                    tableOf[0] = l;
                }
                Lanes.load(xs, x.dtype(), b[0], sx, v, 0, d);
                for (int i = 0; i < p; i += VL) {
                    FloatVector a = FloatVector.fromArray(F, v, i);
                    FloatVector swapped = a.rearrange(PAIR_SWAP);
                    a.mul(FloatVector.fromArray(F, cw, i)).add(swapped.mul(FloatVector.fromArray(F, sw, i))).intoArray(v, i);
                }
                Lanes.store(v, 0, d, os, out.dtype(), b[1], so);
            });
        });
    }

    private static void loadRow(Tensor table, long l, double[] dst) {
        Lanes.load(table.storage().segment(), table.dtype(), table.offset() + l * table.stride(0), table.stride(1),
            dst, 0, dst.length);
    }
}
