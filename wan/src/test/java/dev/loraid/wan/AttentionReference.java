package dev.loraid.wan;

import dev.loraid.tensor.Tensor;

/** Plain softmax(q·kᵀ/sqrt(d)) per head, in float64: the probabilities the fused attention never materialises. */
final class AttentionReference {
    private AttentionReference() {
    }

    /** q [Lq, H, d], k [Lk, H, d] → [H, Lq, Lk]. */
    static Tensor probabilities(Tensor q, Tensor k) {
        int lq = (int) q.size(0);
        int lk = (int) k.size(0);
        int h = (int) q.size(1);
        int d = (int) q.size(2);
        double[] out = new double[h * lq * lk];
        for (int head = 0; head < h; head++) {
            for (int i = 0; i < lq; i++) {
                double[] s = new double[lk];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < lk; j++) {
                    double dot = 0;
                    for (int c = 0; c < d; c++) {
                        dot += q.getDouble(i, head, c) * k.getDouble(j, head, c);
                    }
                    s[j] = dot / Math.sqrt(d);
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < lk; j++) {
                    s[j] = Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int j = 0; j < lk; j++) {
                    out[(head * lq + i) * lk + j] = s[j] / sum;
                }
            }
        }
        return Tensor.ofDoubles(out, h, lq, lk);
    }
}
