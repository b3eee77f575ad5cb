package dev.loraid.wan;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;

import java.util.Arrays;

/**
 * {@code time_embedding} and {@code time_projection} (spec wan.md §2.3, §2.4): sinusoid → Linear → SiLU → Linear
 * gives e [n, D]; SiLU → Linear gives e0 [n, 6, D]. n is 1 for Wan 2.1 and the token count for 2.2 — computed once
 * per distinct timestep and gathered, since tokens sharing t share e (a 2.2 call with one t for all tokens keeps
 * n = 1, broadcast: same numbers, no [L, 6, D] tensor).
 */
final class TimeEmbedding {
    private final WanConfig config;
    private final WanLinear embed0;
    private final WanLinear embed2;
    private final WanLinear projection;

    TimeEmbedding(WanWeights w, WanConfig c) {
        this.config = c;
        this.embed0 = new WanLinear(w, "time_embedding.0", c.freqDim(), c.dim());
        this.embed2 = new WanLinear(w, "time_embedding.2", c.dim(), c.dim());
        this.projection = new WanLinear(w, "time_projection.1", c.dim(), 6L * c.dim());
    }

    /** e [n, D] and e0 [n, 6, D] for the timesteps {@code t}. */
    record Result(Tensor e, Tensor e0) {
    }

    /**
     * @param t one timestep (2.1, or a uniform 2.2 call: the per-token rows would all be equal, §2.4) or one per
     *          token (float64, as §2.3 converts t before the sinusoid)
     */
    Result forward(double[] t, WanTaps taps) {
        double[] distinct = Arrays.stream(t).distinct().toArray();
        Tensor sinusoid = Sinusoid.tensor(distinct, config.freqDim(), DType.F32);
        Tensor e = embed2.forward(WanOps.unary(UnaryOp.SILU, embed0.forward(sinusoid)));
        Tensor e0 = projection.forward(WanOps.unary(UnaryOp.SILU, e));
        if (distinct.length > 1) {
            Tensor index = perTokenIndex(t, distinct);
            sinusoid = WanOps.gatherRows(sinusoid, index);
            e = WanOps.gatherRows(e, index);
            e0 = WanOps.gatherRows(e0, index);
        }
        e0 = e0.view(-1, 6, config.dim());
        taps.put("sinusoid", sinusoid);
        taps.put("e", e);
        taps.put("e0", e0);
        return new Result(e, e0);
    }

    /** For each token, the row of its timestep in {@code distinct}. */
    private static Tensor perTokenIndex(double[] t, double[] distinct) {
        long[] index = new long[t.length];
        for (int i = 0; i < t.length; i++) {
            for (int j = 0; j < distinct.length; j++) {
                if (Double.compare(t[i], distinct[j]) == 0) {
                    index[i] = j;
                }
            }
        }
        return Tensor.ofLongs(index, t.length);
    }
}
