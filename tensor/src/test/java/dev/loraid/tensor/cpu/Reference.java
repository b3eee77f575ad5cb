package dev.loraid.tensor.cpu;

/**
 * Plain fp64 twins of the CPU kernels, written from the definitions with no shared code: row-major double
 * arrays in, row-major double arrays out.
 */
public final class Reference {
    private Reference() {
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Row-major index into a tensor of shape {@code in} broadcast (right-aligned) to {@code out}, for out index i. */
    public static int broadcastIndex(long[] out, long[] in, long i) {
        long idx = 0;
        long mul = 1;
        for (int d = out.length - 1, e = in.length - 1; d >= 0; d--, e--) {
            long coord = i % out[d];
            i /= out[d];
            if (e >= 0) {
                idx += (in[e] == 1 ? 0 : coord) * mul;
                mul *= in[e];
            }
        }
        return (int) idx;
    }

    public static double[] softmaxRows(double[] x, int d) {
        double[] y = new double[x.length];
        for (int r = 0; r < x.length / d; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < d; i++) {
                max = Math.max(max, x[r * d + i]);
            }
            double sum = 0;
            for (int i = 0; i < d; i++) {
                sum += Math.exp(x[r * d + i] - max);
            }
            for (int i = 0; i < d; i++) {
                y[r * d + i] = Math.exp(x[r * d + i] - max) / sum;
            }
        }
        return y;
    }

    /** LayerNorm (centered) or RMSNorm per row; w, b may be null. Returns {out, mean, rstd}. */
    public static double[][] norm(boolean centered, double[] x, int d, double[] w, double[] b, double eps) {
        int rows = x.length / d;
        double[] out = new double[x.length];
        double[] mean = new double[rows];
        double[] rstd = new double[rows];
        for (int r = 0; r < rows; r++) {
            double mu = 0;
            if (centered) {
                for (int i = 0; i < d; i++) {
                    mu += x[r * d + i];
                }
                mu /= d;
            }
            double var = 0;
            for (int i = 0; i < d; i++) {
                var += (x[r * d + i] - mu) * (x[r * d + i] - mu);
            }
            double rs = 1 / Math.sqrt(var / d + eps);
            for (int i = 0; i < d; i++) {
                out[r * d + i] = (x[r * d + i] - mu) * rs * (w == null ? 1 : w[i]) + (b == null ? 0 : b[i]);
            }
            mean[r] = mu;
            rstd[r] = rs;
        }
        return new double[][] {out, mean, rstd};
    }

    /** Naive attention for one head: q [lq, d], k [lk, d], v [lk, dv], the first {@code keys} keys valid. */
    public static double[] attention(double[] q, double[] k, double[] v, int lq, int lk, int d, int dv, int keys, double scale) {
        return attention(q, k, v, null, lq, lk, d, dv, keys, scale);
    }

    /** As above with bias null or [lq, lk] (row-major) added to the scaled scores. */
    public static double[] attention(double[] q, double[] k, double[] v, double[] bias, int lq, int lk, int d, int dv,
                                     int keys, double scale) {
        double[] out = new double[lq * dv];
        for (int i = 0; i < lq; i++) {
            double[] s = new double[keys];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < keys; j++) {
                for (int c = 0; c < d; c++) {
                    s[j] += q[i * d + c] * k[j * d + c];
                }
                s[j] = s[j] * scale + (bias == null ? 0 : bias[i * lk + j]);
                max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < keys; j++) {
                s[j] = Math.exp(s[j] - max);
                sum += s[j];
            }
            for (int j = 0; j < keys; j++) {
                for (int c = 0; c < dv; c++) {
                    out[i * dv + c] += s[j] / sum * v[j * dv + c];
                }
            }
        }
        return out;
    }

    /** Naive attention backward for one head, through the full probability matrix: returns {dq, dk, dv}. */
    public static double[][] attentionBackward(double[] q, double[] k, double[] v, double[] dOut, int lq, int lk, int d,
                                        int dv, int keys, double scale) {
        double[][] p = new double[lq][lk];
        for (int i = 0; i < lq; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < keys; j++) {
                for (int c = 0; c < d; c++) {
                    p[i][j] += q[i * d + c] * k[j * d + c] * scale;
                }
                max = Math.max(max, p[i][j]);
            }
            double sum = 0;
            for (int j = 0; j < keys; j++) {
                p[i][j] = Math.exp(p[i][j] - max);
                sum += p[i][j];
            }
            for (int j = 0; j < keys; j++) {
                p[i][j] /= sum;
            }
        }
        double[] dq = new double[lq * d];
        double[] dk = new double[lk * d];
        double[] dvv = new double[lk * dv];
        for (int i = 0; i < lq; i++) {
            double[] dp = new double[keys];
            for (int j = 0; j < keys; j++) {
                for (int c = 0; c < dv; c++) {
                    dp[j] += dOut[i * dv + c] * v[j * dv + c];
                    dvv[j * dv + c] += p[i][j] * dOut[i * dv + c];
                }
            }
            double pdp = 0;
            for (int j = 0; j < keys; j++) {
                pdp += p[i][j] * dp[j];
            }
            for (int j = 0; j < keys; j++) {
                double ds = p[i][j] * (dp[j] - pdp) * scale;
                for (int c = 0; c < d; c++) {
                    dq[i * d + c] += ds * k[j * d + c];
                    dk[j * d + c] += ds * q[i * d + c];
                }
            }
        }
        return new double[][] {dq, dk, dvv};
    }

    /** log Σ_j exp(scale·q_i·k_j) over the valid keys, per query row. */
    public static double[] attentionLse(double[] q, double[] k, int lq, int d, int keys, double scale) {
        double[] lse = new double[lq];
        for (int i = 0; i < lq; i++) {
            double sum = 0;
            for (int j = 0; j < keys; j++) {
                double s = 0;
                for (int c = 0; c < d; c++) {
                    s += q[i * d + c] * k[j * d + c];
                }
                sum += Math.exp(s * scale);
            }
            lse[i] = Math.log(sum);
        }
        return lse;
    }

    /** {@code alpha·(a @ b) + beta·c + bias} for one [m, k] @ [k, n] matrix pair; bias null or [n]. */
    public static double[] matmul(double[] a, double[] b, double[] c, double[] bias, int m, int k, int n, double alpha,
                                  double beta) {
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += a[i * k + p] * b[p * n + j];
                }
                out[i * n + j] = alpha * s + beta * c[i * n + j] + (bias == null ? 0 : bias[j]);
            }
        }
        return out;
    }

    /**
     * 3-D cross-correlation, loop by loop: x [n, ci, t, h, w] and weight [co, ci, kt, kh, kw] row-major, bias null
     * or [co], stride {t, h, w}, zero padding {front, back, top, bottom, left, right}; out row-major
     * [n, co, to, ho, wo].
     */
    public static double[] conv3d(double[] x, int[] xd, double[] w, int[] wd, double[] bias, int[] stride, int[] pad) {
        double[] out = new double[convOutputs(xd, wd, stride, pad)];
        convTerms(xd, wd, stride, pad, (pos, o, xi, wj) -> {
            if (xi < 0) {
                out[pos] = bias == null ? 0 : bias[o];
            } else {
                out[pos] += x[xi] * w[wj];
            }
        });
        return out;
    }

    /**
     * Gradients of {@link #conv3d} for the output gradient g (row-major [n, co, to, ho, wo]), loop by loop:
     * {dx, dWeight, dBias}, each out[pos] = Σ x·w term's partial derivative summed over every output position.
     */
    public static double[][] conv3dBackward(double[] x, int[] xd, double[] w, int[] wd, double[] g, int[] stride,
                                            int[] pad) {
        double[] dx = new double[x.length];
        double[] dw = new double[w.length];
        double[] db = new double[wd[0]];
        convTerms(xd, wd, stride, pad, (pos, o, xi, wj) -> {
            if (xi < 0) {
                db[o] += g[pos];
            } else {
                dx[xi] += g[pos] * w[wj];
                dw[wj] += g[pos] * x[xi];
            }
        });
        return new double[][] {dx, dw, db};
    }

    /** One term of a convolution: output position pos (channel o) gets x[xi]·w[wj]; xi = -1 opens the position. */
    private interface ConvTerm {
        void accept(int pos, int o, int xi, int wj);
    }

    private static int convOutputs(int[] xd, int[] wd, int[] stride, int[] pad) {
        return xd[0] * wd[0] * convOut(xd, wd, stride, pad, 0) * convOut(xd, wd, stride, pad, 1)
            * convOut(xd, wd, stride, pad, 2);
    }

    /** Output size along spatial axis d (0 = t, 1 = h, 2 = w). */
    private static int convOut(int[] xd, int[] wd, int[] stride, int[] pad, int d) {
        return (xd[2 + d] + pad[2 * d] + pad[2 * d + 1] - wd[2 + d]) / stride[d] + 1;
    }

    /**
     * Every output position in row-major order, opened by a call with xi = -1, then each of its in-range x·w
     * terms (row-major indices into x and w): the one loop nest both conv references walk.
     */
    private static void convTerms(int[] xd, int[] wd, int[] stride, int[] pad, ConvTerm term) {
        int n = xd[0], ci = xd[1], t = xd[2], h = xd[3], wi = xd[4];
        int co = wd[0], kt = wd[2], kh = wd[3], kw = wd[4];
        int to = convOut(xd, wd, stride, pad, 0);
        int ho = convOut(xd, wd, stride, pad, 1);
        int wo = convOut(xd, wd, stride, pad, 2);
        int pos = 0;
        for (int b = 0; b < n; b++) {
            for (int o = 0; o < co; o++) {
                for (int ot = 0; ot < to; ot++) {
                    for (int oh = 0; oh < ho; oh++) {
                        for (int ow = 0; ow < wo; ow++, pos++) {
                            term.accept(pos, o, -1, -1);
                            for (int i = 0; i < ci; i++) {
                                for (int a = 0; a < kt; a++) {
                                    int it = ot * stride[0] + a - pad[0];
                                    for (int c = 0; c < kh; c++) {
                                        int ih = oh * stride[1] + c - pad[2];
                                        for (int e = 0; e < kw; e++) {
                                            int iw = ow * stride[2] + e - pad[4];
                                            if (it < 0 || it >= t || ih < 0 || ih >= h || iw < 0 || iw >= wi) {
                                                continue;
                                            }
                                            term.accept(pos, o, (((b * ci + i) * t + it) * h + ih) * wi + iw,
                                                (((o * ci + i) * kt + a) * kh + c) * kw + e);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** One PyTorch AdamW step (decoupled weight decay, bias-corrected): returns {param, m, v}. */
    public static double[][] adamw(double[] p, double[] g, double[] m, double[] v, double lr, double beta1, double beta2,
                                   double eps, double weightDecay, long step) {
        double[][] out = {p.clone(), m.clone(), v.clone()};
        for (int i = 0; i < p.length; i++) {
            double mi = beta1 * m[i] + (1 - beta1) * g[i];
            double vi = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
            double mHat = mi / (1 - Math.pow(beta1, step));
            double vHat = vi / (1 - Math.pow(beta2, step));
            out[0][i] = p[i] - lr * weightDecay * p[i] - lr * mHat / (Math.sqrt(vHat) + eps);
            out[1][i] = mi;
            out[2][i] = vi;
        }
        return out;
    }

    /**
     * One bitsandbytes AdamW8bit step in double, the blocks of {@code block} elements one after the other: returns
     * {param, m codes, v codes, absmax m, absmax v}. Codes are found by a linear scan for the nearest map value (not the
     * kernels' search), and the first moment's code is moved one step outwards where that flipped its sign.
     */
    public static double[][] adamw8bit(double[] p, double[] g, double[] mCodes, double[] vCodes, double[] absM,
                                       double[] absV, float[] mapM, float[] mapV, int block, double lr, double beta1,
                                       double beta2, double eps, double weightDecay, long step) {
        int n = p.length;
        double[][] out = {p.clone(), new double[n], new double[n], new double[absM.length], new double[absV.length]};
        double c1 = 1 - Math.pow(beta1, step);
        double c2 = Math.sqrt(1 - Math.pow(beta2, step));
        for (int b = 0; b * block < n; b++) {
            int lo = b * block;
            int hi = Math.min(n, lo + block);
            double[] m = new double[hi - lo];
            double[] v = new double[hi - lo];
            double maxM = 0;
            double maxV = 0;
            for (int i = lo; i < hi; i++) {
                if (Double.isFinite(g[i])) {
                    m[i - lo] = beta1 * mapM[(int) mCodes[i]] * absM[b] + (1 - beta1) * g[i];
                    v[i - lo] = beta2 * mapV[(int) vCodes[i]] * absV[b] + (1 - beta2) * g[i] * g[i];
                    double stepped = p[i] - lr * c2 / c1 * m[i - lo] / (Math.sqrt(v[i - lo]) + eps * c2);
                    out[0][i] = weightDecay > 0 ? stepped * (1 - lr * weightDecay) : stepped;
                }
                maxM = Math.max(maxM, Math.abs(m[i - lo]));
                maxV = Math.max(maxV, Math.abs(v[i - lo]));
            }
            out[3][b] = maxM;
            out[4][b] = maxV;
            for (int i = lo; i < hi; i++) {
                double mi = m[i - lo];
                int code = nearestCode(mapM, maxM > 0 ? mi / maxM : 0);
                if ((mapM[code] < 0 || Float.floatToRawIntBits(mapM[code]) == Integer.MIN_VALUE) != (mi < 0)) {
                    code += mi > 0 ? 1 : -1;
                }
                out[1][i] = code & 0xFF;
                out[2][i] = nearestCode(mapV, maxV > 0 ? v[i - lo] / maxV : 0);
            }
        }
        return out;
    }

    private static int nearestCode(float[] map, double x) {
        int best = 0;
        for (int c = 1; c < map.length; c++) {
            if (Math.abs(map[c] - x) < Math.abs(map[best] - x)) {
                best = c;
            }
        }
        return best;
    }
}
