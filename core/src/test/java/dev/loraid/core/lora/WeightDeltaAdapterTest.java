package dev.loraid.core.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.loraid.autograd.GradMode;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Rng;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.Linear;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The LoHa and LoKr training adapters (musubi networks/loha.py, lokr.py): LoKr's factorisation against upstream's
 * documented examples, the forward against {@link LycorisModule}'s update of the same tensors (an independent product,
 * the Kronecker product written as loops) and every factor's gradient against central differences in F64, both with the
 * update folded into the weight (F32, fp8) and added to the output; rank dropout as whole rows of ΔW, and upstream's
 * initialisation (ΔW = 0, the factors' spreads).
 */
class WeightDeltaAdapterTest {
    private static final String NAME = "lora_unet_blocks_0_self_attn_q";
    private static final int OUT = 12;
    private static final int IN = 10;
    private static final int TOKENS = 3;

    @Test
    void lokr_factorisation_follows_upstream() {
        assertArrayEquals(new int[] {8, 16}, LokrAdapter.factorization(128, -1));
        assertArrayEquals(new int[] {16, 32}, LokrAdapter.factorization(512, -1));
        assertArrayEquals(new int[] {32, 32}, LokrAdapter.factorization(1024, -1));
        assertArrayEquals(new int[] {32, 48}, LokrAdapter.factorization(1536, -1));
        assertArrayEquals(new int[] {4, 32}, LokrAdapter.factorization(128, 4));
        assertArrayEquals(new int[] {4, 128}, LokrAdapter.factorization(512, 4));
        assertArrayEquals(new int[] {2, 256}, LokrAdapter.factorization(512, 3)); // 3 does not divide: largest divisor ≤ 3
        assertArrayEquals(new int[] {1, 13}, LokrAdapter.factorization(13, -1));
        assertArrayEquals(new int[] {64, 80}, LokrAdapter.factorization(5120, -1));
        // rank against half the larger second factor: 1536 → 48, so rank 23 stays factored and 24 is whole
        assertFalse(LokrAdapter.wholeW2(1536, 1536, 23, -1));
        assertTrue(LokrAdapter.wholeW2(1536, 1536, 24, -1));
    }

    private static Tensor random(SplittableRandom r, DType type, long... dims) {
        double[] v = new double[Math.toIntExact(dev.loraid.tensor.Shape.of(dims).numel())];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextDouble(-1, 1);
        }
        return Tensor.ofDoubles(v, dims).to(type);
    }

    private static LohaAdapter loha(SplittableRandom r, DType type, int rank, double alpha, LoraAdapter.Dropouts dropouts) {
        return new LohaAdapter(NAME, Parameter.trainable(random(r, type, OUT, rank)), Parameter.trainable(random(r, type, rank, IN)),
                Parameter.trainable(random(r, type, OUT, rank)), Parameter.trainable(random(r, type, rank, IN)), alpha, dropouts);
    }

    /** OUT 12 = 3·4, IN 10 = 2·5: w1 [3, 2], w2 [4, 5], factored at rank 2 or whole. */
    private static LokrAdapter lokr(SplittableRandom r, DType type, boolean whole, double alpha) {
        Parameter w1 = Parameter.trainable(random(r, type, 3, 2));
        return whole ? new LokrAdapter(NAME, w1, Parameter.trainable(random(r, type, 4, 5)), null, null, alpha, LoraAdapter.Dropouts.NONE)
                : new LokrAdapter(NAME, w1, null, Parameter.trainable(random(r, type, 4, 2)), Parameter.trainable(random(r, type, 2, 5)),
                        alpha, LoraAdapter.Dropouts.NONE);
    }

    private static Linear base(SplittableRandom r, DType type) {
        return new Linear(Parameter.of(random(r, type, OUT, IN), false), Parameter.of(random(r, type, OUT), false));
    }

    /** A layer that never asks for a folded weight, as an fp8-scaled one: the adapter adds {@code s·x·ΔWᵀ} to its output. */
    private static final class Unfolding extends Linear {
        Unfolding(Linear like) {
            super(like.weight(), like.bias());
        }

        @Override
        public Var forward(Var x) {
            return adapter().apply(x, dev.loraid.autograd.Ops.linear(x, weight(), bias()));
        }
    }

    /** The same layer twice: folding the update into its weight, and adding it to its output. */
    private static Linear[] bothWays(SplittableRandom r, DType type) {
        Linear folding = base(r, type);
        return new Linear[] {folding, new Unfolding(folding)};
    }

    @Test
    void forward_adds_the_update_lycoris_computes_from_the_same_tensors() {
        SplittableRandom r = new SplittableRandom(3);
        for (NetworkAdapter a : new NetworkAdapter[] {loha(r, DType.F32, 3, 1.5, LoraAdapter.Dropouts.NONE),
                lokr(r, DType.F32, false, 0.5), lokr(r, DType.F32, true, 7.0)}) {
            Linear fp8 = new Linear(Parameter.of(random(r, DType.F32, OUT, IN).to(DType.F8_E4M3), false),
                    Parameter.of(random(r, DType.F32, OUT), false)); // folded after widening to fp32
            Linear[] two = bothWays(r, DType.F32);
            for (Linear layer : new Linear[] {two[0], two[1], fp8}) {
                checkForward(a, layer, random(r, DType.F32, 2, TOKENS, IN));
            }
        }
    }

    /** {@code layer} with {@code a} at multiplier 0.8 against x·W'ᵀ + b, W' merged by {@link LycorisModule}. */
    private static void checkForward(NetworkAdapter a, Linear layer, Tensor x) {
        a.setMultiplier(0.8);
        layer.setAdapter(a);
        double[] got = layer.forward(Var.constant(x)).data().toDoubleArray();
        layer.setAdapter(null);

        TreeMap<String, Tensor> tensors = new TreeMap<>();
        a.parameters().forEach((suffix, p) -> tensors.put(NAME + suffix, p.data()));
        tensors.put(NAME + ".alpha", Tensor.ofDoubles(new double[] {a.alpha()}).to(DType.F32));
        Tensor merged = layer.weight().data().to(DType.F32).copy();
        LycorisModule.read(new LoraFile("t", tensors, Map.of())).get(NAME).addTo(merged, 0.8);
        double[] w = merged.toDoubleArray();
        double[] b = layer.bias().data().toDoubleArray();
        double[] xs = x.toDoubleArray();
        for (int row = 0; row < xs.length / IN; row++) {
            for (int o = 0; o < OUT; o++) {
                double want = b[o];
                for (int i = 0; i < IN; i++) {
                    want += xs[row * IN + i] * w[o * IN + i];
                }
                assertEquals(want, got[row * OUT + o], 1e-5 * (1 + Math.abs(want)), a.getClass().getSimpleName() + " "
                        + layer.getClass().getSimpleName() + " " + row + "," + o);
            }
        }
    }

    @Test
    void gradients_of_every_factor_match_central_differences() {
        SplittableRandom r = new SplittableRandom(11);
        for (NetworkAdapter a : new NetworkAdapter[] {loha(r, DType.F64, 3, 1.5, LoraAdapter.Dropouts.NONE),
                lokr(r, DType.F64, false, 0.5), lokr(r, DType.F64, true, 2.0)}) {
            for (Linear layer : bothWays(r, DType.F64)) {
                checkGradients(a, layer, random(r, DType.F64, TOKENS, IN), random(r, DType.F64, TOKENS, OUT));
            }
        }
    }

    /** Each factor's gradient of L = Σ layer(x) ⊙ weights against (L(p + h) − L(p − h)) / 2h, element by element. */
    private static void checkGradients(NetworkAdapter a, Linear layer, Tensor x, Tensor weights) {
        layer.setAdapter(a);
        a.parameters().values().forEach(Parameter::clearGrad);
        a.setMultiplier(0.7);
        Supplier<Var> loss = () -> layer.forward(Var.constant(x)).mul(Var.constant(weights)).sum();
        loss.get().backward();
        for (Map.Entry<String, Parameter> e : a.parameters().entrySet()) {
            Tensor t = e.getValue().data();
            double[] analytic = e.getValue().grad().toDoubleArray();
            for (int k = 0; k < analytic.length; k++) {
                long[] idx = {k / t.size(1), k % t.size(1)};
                double orig = t.getDouble(idx);
                double h = 1e-6;
                double plus;
                double minus;
                try (GradMode.Scope s = GradMode.noGrad()) {
                    t.setDouble(orig + h, idx);
                    plus = loss.get().data().getDouble();
                    t.setDouble(orig - h, idx);
                    minus = loss.get().data().getDouble();
                }
                t.setDouble(orig, idx);
                double numeric = (plus - minus) / (2 * h);
                if (Math.abs(numeric - analytic[k]) > 1e-6 * (1 + Math.abs(numeric))) {
                    fail(a.getClass().getSimpleName() + " " + layer.getClass().getSimpleName() + e.getKey() + "[" + k
                            + "]: analytic " + analytic[k] + ", numeric " + numeric);
                }
            }
        }
    }

    @Test
    void rank_dropout_drops_whole_output_rows_and_rescales_the_rest() {
        SplittableRandom r = new SplittableRandom(5);
        LohaAdapter a = loha(r, DType.F64, 2, 2.0, new LoraAdapter.Dropouts(0, 0.5, 0));
        Linear layer = base(r, DType.F64);
        Tensor x = random(r, DType.F64, TOKENS, IN);
        double[] plain = layer.forward(Var.constant(x)).data().toDoubleArray();
        layer.setAdapter(a);
        double[] full = layer.forward(Var.constant(x)).data().toDoubleArray();
        a.setTraining(true);
        Rng.seed(99);
        double[] dropped = layer.forward(Var.constant(x)).data().toDoubleArray();
        int kept = 0;
        for (int o = 0; o < OUT; o++) {
            boolean keep = Math.abs(dropped[o] - plain[o]) > 1e-12;
            kept += keep ? 1 : 0;
            for (int t = 0; t < TOKENS; t++) { // one mask for every token: a row is dropped or kept in all of them
                int k = t * OUT + o;
                double want = keep ? plain[k] + 2 * (full[k] - plain[k]) : plain[k];
                assertEquals(want, dropped[k], 1e-12, "row " + o + " token " + t);
            }
        }
        assertTrue(kept > 0 && kept < OUT, kept + " of " + OUT + " rows kept at p = 0.5");
    }

    @Test
    void fresh_adapters_start_at_zero_with_upstreams_spreads() {
        Linear layer = new Linear(Parameter.of(Tensor.zeros(DType.F32, 256, 192), false), null);
        NetworkAdapter loha = NetworkModule.LOHA.create(NAME, layer, 8, 4, LoraAdapter.Dropouts.NONE, -1, 100);
        Map<String, Parameter> p = loha.parameters();
        assertEquals(0.1, sd(p.get(".hada_w1_a")), 0.01);
        assertEquals(1.0, sd(p.get(".hada_w1_b")), 0.05);
        assertEquals(0.0, sd(p.get(".hada_w2_a")), 0.0);
        assertEquals(1.0, sd(p.get(".hada_w2_b")), 0.05);

        NetworkAdapter lokr = NetworkModule.LOKR.create(NAME, layer, 4, 2, LoraAdapter.Dropouts.NONE, -1, 100);
        Map<String, Parameter> q = lokr.parameters();
        assertEquals(java.util.List.of(".lokr_w1", ".lokr_w2_a", ".lokr_w2_b"), java.util.List.copyOf(q.keySet()));
        assertEquals(dev.loraid.tensor.Shape.of(16, 12), q.get(".lokr_w1").shape()); // 256 = 16·16, 192 = 12·16
        assertEquals(dev.loraid.tensor.Shape.of(16, 4), q.get(".lokr_w2_a").shape());
        assertEquals(dev.loraid.tensor.Shape.of(4, 16), q.get(".lokr_w2_b").shape());
        // kaiming-uniform(a = √5): U(±1/√fan_in), standard deviation bound/√3
        assertEquals(1 / Math.sqrt(12) / Math.sqrt(3), sd(q.get(".lokr_w1")), 0.02);
        NetworkAdapter whole = NetworkModule.LOKR.create(NAME, layer, 8, 2, LoraAdapter.Dropouts.NONE, -1, 100);
        assertEquals(java.util.List.of(".lokr_w1", ".lokr_w2"), java.util.List.copyOf(whole.parameters().keySet()));
        assertEquals(8.0, whole.alpha()); // whole w2: upstream saves alpha = rank, the scale is 1

        Tensor x = Tensor.full(DType.F32, 1.0, 2, 192);
        for (NetworkAdapter a : new NetworkAdapter[] {loha, lokr, whole}) {
            layer.setAdapter(a);
            assertArrayEquals(new double[2 * 256], layer.forward(Var.constant(x)).data().toDoubleArray(), 0.0);
        }
    }

    private static double sd(Parameter p) {
        double[] v = p.data().toDoubleArray();
        double m = 0;
        for (double d : v) {
            m += d;
        }
        m /= v.length;
        double s = 0;
        for (double d : v) {
            s += (d - m) * (d - m);
        }
        return Math.sqrt(s / v.length);
    }
}
