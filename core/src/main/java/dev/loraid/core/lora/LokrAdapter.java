package dev.loraid.core.lora;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * LoKr (musubi networks/lokr.py, after LyCORIS): {@code ΔW = s · kron(w1, w2)} with w1 [outL, inM] a whole matrix and
 * w2 [outK, inN] either factored as w2a·w2b (rank r, s = α/r) or, when r ≥ max(outK, inN)/2, whole (s = 1: upstream
 * then saves α = r). The dimensions come from {@link #factorization}. Trained from w1 and w2a ~ kaiming-uniform, w2b (or
 * w2) = 0, so ΔW starts at zero.
 */
public final class LokrAdapter extends WeightDeltaAdapter {
    private final Parameter w1;
    private final Parameter w2;
    private final Parameter w2a;
    private final Parameter w2b;

    /** Exactly one of {@code w2} and the pair {@code w2a}, {@code w2b} is given (the other null). */
    public LokrAdapter(String loraName, Parameter w1, Parameter w2, Parameter w2a, Parameter w2b, double alpha,
            LoraAdapter.Dropouts dropouts) {
        super(loraName, alpha, dropouts);
        if ((w2 == null) == (w2a == null || w2b == null)) {
            throw new IllegalArgumentException(loraName + ": LoKr needs lokr_w2 or lokr_w2_a and lokr_w2_b");
        }
        if (w2 == null && (w2a.shape().rank() != 2 || w2b.shape().rank() != 2 || w2a.shape().dim(1) != w2b.shape().dim(0))) {
            throw new IllegalArgumentException(loraName + ": lokr_w2_a " + w2a.shape() + " and lokr_w2_b " + w2b.shape()
                    + " do not multiply");
        }
        this.w1 = w1;
        this.w2 = w2;
        this.w2a = w2a;
        this.w2b = w2b;
    }

    /**
     * Two factors {@code (m, n)} of {@code dimension} with m ≤ n: {@code factor} and its cofactor when factor &gt; 0
     * divides it, else the pair of the largest divisor m ≤ min(factor, √dimension) (factor −1: no bound). Upstream's
     * {@code factorization}: 128 → (8, 16), 512 → (16, 32), 1536 → (32, 48); factor 4: 512 → (4, 128).
     */
    public static int[] factorization(int dimension, int factor) {
        if (factor > 0 && dimension % factor == 0) {
            int m = factor;
            int n = dimension / factor;
            return m > n ? new int[] {n, m} : new int[] {m, n};
        }
        int limit = factor < 0 ? dimension : factor;
        int m = 1;
        int n = dimension;
        while (m < n) {
            int nm = m + 1;
            while (dimension % nm != 0) {
                nm++;
            }
            int nn = dimension / nm;
            if (nm > limit) {
                break;
            }
            m = nm;
            n = nn;
        }
        return m > n ? new int[] {n, m} : new int[] {m, n};
    }

    /** Whether a rank-{@code rank} LoKr of a {@code out×in} layer keeps w2 whole (upstream's test). */
    public static boolean wholeW2(int out, int in, int rank, int factor) {
        return rank >= Math.max(factorization(out, factor)[1], factorization(in, factor)[1]) / 2.0;
    }

    /** The rank of the factored w2, 0 when it is whole. */
    public int rank() {
        return w2 == null ? (int) w2a.shape().dim(1) : 0;
    }

    @Override
    double scale() {
        return w2 != null ? 1.0 : alpha() / rank();
    }

    @Override
    Var unscaledDelta(Var[] f) {
        Var left = f[0];
        Var right = w2 != null ? f[1] : f[1].matmul(f[2]); // w2, or w2a·w2b
        long a = left.size(0);
        long c = left.size(1);
        long b = right.size(0);
        long d = right.size(1);
        // kron(w1, w2)[i·b + k, j·d + l] = w1[i, j] · w2[k, l]: a broadcast product [a, 1, c, 1] · [1, b, 1, d]
        return left.reshape(a, 1, c, 1).mul(right.reshape(1, b, 1, d)).reshape(a * b, c * d);
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        out.put(".lokr_w1", w1);
        if (w2 != null) {
            out.put(".lokr_w2", w2);
        } else {
            out.put(".lokr_w2_a", w2a);
            out.put(".lokr_w2_b", w2b);
        }
        return out;
    }
}
