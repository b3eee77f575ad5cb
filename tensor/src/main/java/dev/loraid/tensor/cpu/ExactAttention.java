package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Tensor;

/**
 * Attention forward and backward in fp64, for any dtype and strides, one query row at a time (memory O(L·D) per
 * head, never [Lq, Lk]). The path for all-F64 calls (finite-difference gradient checks) and for layouts the flash
 * kernels do not take. Per head, with s = scale·q·kᵀ over the valid keys:
 * <pre>
 *   forward:  p = softmax(s), out = p·v, lse = log Σ exp(s)
 *   backward: p = exp(s − lse), dv = pᵀ·dO, dp = dO·vᵀ, ds = p∘(dp − rowsum(dO∘out)), dq = scale·ds·k, dk = scale·dsᵀ·q
 * </pre>
 * A row with no valid key gets out = 0 and lse = −∞, and contributes no gradient.
 */
final class ExactAttention {
    private ExactAttention() {
    }

    /** bias: null, or [B, H, Lq, Lk] added to the scaled scores ({@link CpuAttention#forwardWithBias}). */
    static void forward(CpuAttention.Dims dims, Tensor q, Tensor k, Tensor v, Tensor bias, double scale, int[] kvLengths,
                        Tensor out, Tensor lse) {
        int lq = dims.lq();
        int d = dims.d();
        int dv = dims.dv();
        Parallel.forEach(dims.batch() * dims.heads(), bh -> {
            int b = bh / dims.heads();
            int h = bh % dims.heads();
            int keys = dims.keys(kvLengths, b);
            double[] kk = head(k, b, h, keys, d);
            double[] vv = head(v, b, h, keys, dv);
            double[] qi = new double[d];
            double[] s = new double[keys];
            double[] o = new double[dv];
            double[] bi = bias == null ? null : new double[keys];
            for (int i = 0; i < lq; i++) {
                row(q, b, h, i, qi);
                if (bi != null) {
                    long base = bias.offset() + b * bias.stride(0) + h * bias.stride(1) + i * bias.stride(2);
                    Lanes.load(bias.storage().segment(), bias.dtype(), base, bias.stride(3), bi, 0, keys);
                }
                double lseI = scores(qi, kk, keys, d, scale, bi, s);
                java.util.Arrays.fill(o, 0);
                for (int j = 0; j < keys; j++) {
                    double p = Math.exp(s[j] - lseI);
                    for (int c = 0; c < dv; c++) {
                        o[c] += p * vv[j * dv + c];
                    }
                }
                for (int c = 0; c < dv; c++) {
                    out.setDouble(o[c], b, h, i, c);
                }
                if (lse != null) {
                    lse.setDouble(lseI, b, h, i);
                }
            }
        });
    }

    static void backward(CpuAttention.Dims dims, Tensor q, Tensor k, Tensor v, Tensor out, Tensor dOut, Tensor lse,
                         double scale, int[] kvLengths, Tensor dq, Tensor dk, Tensor dv) {
        int lq = dims.lq();
        int lk = dims.lk();
        int d = dims.d();
        int dvn = dims.dv();
        Parallel.forEach(dims.batch() * dims.heads(), bh -> {
            int b = bh / dims.heads();
            int h = bh % dims.heads();
            int keys = dims.keys(kvLengths, b);
            double[] kk = head(k, b, h, keys, d);
            double[] vv = head(v, b, h, keys, dvn);
            double[] dkAcc = new double[lk * d];
            double[] dvAcc = new double[lk * dvn];
            double[] qi = new double[d];
            double[] oi = new double[dvn];
            double[] gi = new double[dvn];
            double[] dqi = new double[d];
            double[] s = new double[keys];
            for (int i = 0; i < lq; i++) {
                row(q, b, h, i, qi);
                row(out, b, h, i, oi);
                row(dOut, b, h, i, gi);
                double lseI = lse != null ? lse.getDouble(b, h, i) : Double.NaN;
                double computed = scores(qi, kk, keys, d, scale, null, s);
                if (lse == null) {
                    lseI = computed;
                }
                java.util.Arrays.fill(dqi, 0);
                if (keys > 0) {
                    double rowDot = 0;
                    for (int c = 0; c < dvn; c++) {
                        rowDot += gi[c] * oi[c];
                    }
                    for (int j = 0; j < keys; j++) {
                        double p = Math.exp(s[j] - lseI);
                        double dp = 0;
                        for (int c = 0; c < dvn; c++) {
                            dp += gi[c] * vv[j * dvn + c];
                            dvAcc[j * dvn + c] += p * gi[c];
                        }
                        double ds = p * (dp - rowDot) * scale;
                        for (int c = 0; c < d; c++) {
                            dqi[c] += ds * kk[j * d + c];
                            dkAcc[j * d + c] += ds * qi[c];
                        }
                    }
                }
                for (int c = 0; c < d; c++) {
                    dq.setDouble(dqi[c], b, h, i, c);
                }
            }
            for (int j = 0; j < lk; j++) {
                for (int c = 0; c < d; c++) {
                    dk.setDouble(dkAcc[j * d + c], b, h, j, c);
                }
                for (int c = 0; c < dvn; c++) {
                    dv.setDouble(dvAcc[j * dvn + c], b, h, j, c);
                }
            }
        });
    }

    /** s[j] = scale·q·k_j (+ bias[j]) for the valid keys; returns log Σ exp(s) (−∞ when there are none). */
    private static double scores(double[] qi, double[] kk, int keys, int d, double scale, double[] bias, double[] s) {
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < keys; j++) {
            double dot = 0;
            for (int c = 0; c < d; c++) {
                dot += qi[c] * kk[j * d + c];
            }
            s[j] = dot * scale + (bias == null ? 0 : bias[j]);
            max = Math.max(max, s[j]);
        }
        if (keys == 0) {
            return Double.NEGATIVE_INFINITY;
        }
        double sum = 0;
        for (int j = 0; j < keys; j++) {
            sum += Math.exp(s[j] - max);
        }
        return max + Math.log(sum);
    }

    /** The first {@code rows} rows of head (b, h) as a dense [rows, width] array. */
    private static double[] head(Tensor t, int b, int h, int rows, int width) {
        double[] out = new double[rows * width];
        Tensor hv = t.select(0, b).select(0, h);
        for (int j = 0; j < rows; j++) {
            Lanes.load(hv.storage().segment(), hv.dtype(), hv.offset() + j * hv.stride(0), hv.stride(1), out, j * width, width);
        }
        return out;
    }

    private static void row(Tensor t, int b, int h, int i, double[] dst) {
        long base = t.offset() + b * t.stride(0) + h * t.stride(1) + i * t.stride(2);
        Lanes.load(t.storage().segment(), t.dtype(), base, t.stride(3), dst, 0, dst.length);
    }
}
