package dev.loraid.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.CollectingReporter;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Every --timestep_sampling mode against its exact distribution (spec training.md §1.3–§1.5) over 200k draws:
 * the empirical CDF at points x is compared with F(x), with a tolerance of 5 standard errors sqrt(F(1 − F)/n) (a
 * false failure has probability below 1e-6 per check). The exact F uses a Simpson-integrated Φ, not the sampler's
 * Φ⁻¹.
 */
class TimestepSamplerTest {
    private static final int N = 200_000;
    private static final long SEED = 20250601;
    private static final HostRandom RANDOM = new HostRandom(HostRandom.key(SEED, "timestep"));
    private static final double PHI_1 = 0.8413447460685429;

    private static Noising[] drawAll(TimestepConfig c, long h, long w) {
        return new TimestepSampler(c).draw(N, h, w, RANDOM, 0);
    }

    private static double[] sigmas(Noising[] ns) {
        double[] s = new double[ns.length];
        for (int i = 0; i < ns.length; i++) {
            s[i] = ns[i].sigma();
        }
        return s;
    }

    /** The fraction of xs below x equals p within 5 standard errors. */
    private static void assertCdf(String what, double[] xs, double x, double p) {
        long below = 0;
        for (double v : xs) {
            if (v < x) {
                below++;
            }
        }
        double f = below / (double) xs.length;
        double tol = 5 * Math.sqrt(Math.max(p * (1 - p), 1e-6) / xs.length);
        assertEquals(p, f, tol, what + ": P(t < " + x + ")");
    }

    private static void assertMean(String what, double[] xs, double mean, double sd) {
        double s = 0;
        for (double v : xs) {
            s += v;
        }
        assertEquals(mean, s / xs.length, 5 * sd / Math.sqrt(xs.length), what + ": mean");
    }

    /** Φ(x) by Simpson's rule on the density (error far below the statistical tolerances). */
    static double phi(double x) {
        if (Double.isInfinite(x)) {
            return x > 0 ? 1 : 0;
        }
        int n = 4000;
        double h = x / n;
        double s = 0;
        for (int i = 0; i <= n; i++) {
            double y = i * h;
            double f = Math.exp(-y * y / 2);
            s += (i == 0 || i == n ? 1 : i % 2 == 1 ? 4 : 2) * f;
        }
        return 0.5 + s * h / 3 / Math.sqrt(2 * Math.PI);
    }

    private static double logit(double x) {
        return Math.log(x / (1 - x));
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    /** CDF of the shift mode with shift s and sigmoid scale k: t < x ⟺ z < x/(s − (s − 1)x) ⟺ k·n < logit(z). */
    private static double shiftCdf(double s, double k, double x) {
        double z = x / (s - (s - 1) * x);
        return phi(logit(z) / k);
    }

    /** CDF of logsnr: t = sigmoid(−l/2) < x ⟺ l > −2·logit(x). */
    private static double logsnrCdf(double mean, double std, double x) {
        return 1 - phi((-2 * logit(x) - mean) / std);
    }

    private static void assertOffset(Noising[] ns) {
        for (Noising n : ns) {
            assertEquals(n.sigma() * 1000 + 1, n.timestep(), 0, "timestep = σ·1000 + 1");
        }
    }

    @Test
    void uniform() {
        Noising[] ns = drawAll(TimestepConfig.of(TimestepSampling.UNIFORM), 32, 32);
        double[] t = sigmas(ns);
        assertMean("uniform", t, 0.5, Math.sqrt(1 / 12.0));
        for (double x : new double[] {0.1, 0.25, 0.5, 0.9}) {
            assertCdf("uniform", t, x, x);
        }
        assertOffset(ns);
        for (Noising n : ns) {
            assertTrue(n.sigma() >= 0 && n.sigma() < 1);
            assertEquals(1.0, n.weight());
        }
    }

    @Test
    void sigmoid_has_median_one_half_and_phi_of_one_below_sigmoid_of_the_scale() {
        double scale = 1.5;
        double[] t = sigmas(drawAll(TimestepConfig.of(TimestepSampling.SIGMOID).withShift(1.0, scale), 32, 32));
        assertCdf("sigmoid", t, 0.5, 0.5);
        assertCdf("sigmoid", t, sigmoid(scale * 1), PHI_1);
        assertCdf("sigmoid", t, sigmoid(-scale * 1), 1 - PHI_1);
        assertCdf("sigmoid", t, sigmoid(scale * 1.959963984540054), 0.975);
    }

    @Test
    void shift_follows_its_quantile_function() {
        double s = 3.0;
        Noising[] ns = drawAll(TimestepConfig.of(TimestepSampling.SHIFT).withShift(s, 1.0), 32, 32);
        double[] t = sigmas(ns);
        DoubleUnaryOperator quantile = n -> { // q = Φ(n): s·z/(1 + (s − 1)z), z = sigmoid(n)
            double z = sigmoid(n);
            return s * z / (1 + (s - 1) * z);
        };
        assertCdf("shift", t, quantile.applyAsDouble(0), 0.5);
        assertCdf("shift", t, quantile.applyAsDouble(1), PHI_1);
        assertCdf("shift", t, quantile.applyAsDouble(-1.959963984540054), 0.025);
        assertCdf("shift", t, quantile.applyAsDouble(1.959963984540054), 0.975);
        assertOffset(ns);
    }

    @Test
    void resolution_dependent_shifts() {
        TimestepSampler s = new TimestepSampler(TimestepConfig.of(TimestepSampling.FLUX_SHIFT));
        // flux: (h/2)(w/2) = 32·32 = 1024 → mu = 0.5 + 0.65·(1024 − 256)/3840 = 0.63
        assertEquals(Math.exp(0.63), s.shiftFor(TimestepSampling.FLUX_SHIFT, 64, 64), 1e-12);
        // integer halves: 45/2 = 22, 81/2 = 40 → 880
        assertEquals(Math.exp(0.5 + 0.65 * (880 - 256) / 3840.0), s.shiftFor(TimestepSampling.FLUX_SHIFT, 45, 81), 1e-12);
        assertEquals(Math.exp(0.5 + 0.65 * (45 * 81 - 256) / 3840.0), s.shiftFor(TimestepSampling.FLUX2_SHIFT, 45, 81), 1e-12);
        assertEquals(Math.exp(0.5 + 0.4 * (880 - 256) / 7936.0), s.shiftFor(TimestepSampling.QWEN_SHIFT, 45, 81), 1e-12);
        assertEquals(Math.exp(0.5 + 0.65 * (880 - 256) / 6144.0), s.shiftFor(TimestepSampling.KREA2_SHIFT, 45, 81), 1e-12);
        double shift = Math.exp(0.63);
        double[] t = sigmas(drawAll(TimestepConfig.of(TimestepSampling.FLUX_SHIFT), 64, 64));
        for (double x : new double[] {0.2, 0.5, shift / (1 + shift), 0.8}) {
            assertCdf("flux_shift", t, x, shiftCdf(shift, 1, x));
        }
        double qwen = s.shiftFor(TimestepSampling.QWEN_SHIFT, 90, 160);
        double[] q = sigmas(drawAll(TimestepConfig.of(TimestepSampling.QWEN_SHIFT), 90, 160));
        assertCdf("qwen_shift", q, qwen / (1 + qwen), 0.5);
    }

    @Test
    void logsnr_quantiles() {
        double mean = -0.5;
        double std = 1.2;
        double[] t = sigmas(drawAll(TimestepConfig.of(TimestepSampling.LOGSNR).withWeighting(WeightingScheme.NONE, mean, std, 1.29), 32, 32));
        assertCdf("logsnr", t, sigmoid(-mean / 2), 0.5);
        assertCdf("logsnr", t, sigmoid(-(mean + std) / 2), 1 - PHI_1);
        assertCdf("logsnr", t, sigmoid(-(mean - std) / 2), PHI_1);
        assertCdf("logsnr", t, 0.1, logsnrCdf(mean, std, 0.1));
    }

    @Test
    void qinglong_mixtures() {
        TimestepSampler s = new TimestepSampler(TimestepConfig.of(TimestepSampling.QINGLONG_FLUX));
        double flux = s.shiftFor(TimestepSampling.FLUX_SHIFT, 64, 64);
        double[] t = sigmas(drawAll(TimestepConfig.of(TimestepSampling.QINGLONG_FLUX), 64, 64));
        for (double x : new double[] {0.03, 0.06, 0.1, 0.2, 0.5, 0.8}) {
            double f = 0.79 * shiftCdf(flux, 1, x) + 0.11 * logsnrCdf(0, 1, x) + 0.10 * logsnrCdf(5.36, 1, x);
            assertCdf("qinglong_flux", t, x, f);
        }
        // a narrow middle component (logsnr(−6, 0.1): t ≈ sigmoid(3) ≈ 0.95) makes its 0.11 share stand out
        double[] sep = sigmas(drawAll(TimestepConfig.of(TimestepSampling.QINGLONG_FLUX).withWeighting(WeightingScheme.NONE, -6, 0.1, 1.29), 64, 64));
        for (double x : new double[] {0.03, 0.1, 0.5, 0.94, 0.965}) {
            double f = 0.79 * shiftCdf(flux, 1, x) + 0.11 * logsnrCdf(-6, 0.1, x) + 0.10 * logsnrCdf(5.36, 1, x);
            assertCdf("qinglong_flux separated", sep, x, f);
        }
        double qwen = s.shiftFor(TimestepSampling.QWEN_SHIFT, 64, 64);
        double[] q = sigmas(drawAll(TimestepConfig.of(TimestepSampling.QINGLONG_QWEN), 64, 64));
        for (double x : new double[] {0.03, 0.06, 0.1, 0.5}) {
            assertCdf("qinglong_qwen", q, x, 0.95 * shiftCdf(qwen, 1, x) + 0.05 * logsnrCdf(5.36, 1, x));
        }
    }

    @Test
    void sigma_mode_draws_table_timesteps_with_mirrored_min_max() {
        Noising[] ns = drawAll(TimestepConfig.defaults(), 32, 32);
        assertSupport(ns, 1, 1000);
        long atMost500 = 0;
        for (Noising n : ns) {
            assertEquals(Math.rint(n.timestep()), n.timestep(), 0, "integer-valued");
            assertTrue(n.timestep() >= 1 && n.timestep() <= 1000);
            assertEquals(n.timestep() / 1000, n.sigma(), 0, "σ = timestep/1000: no +1 in sigma mode");
            atMost500 += n.timestep() <= 500 ? 1 : 0;
        }
        assertEquals(0.5, atMost500 / (double) N, 5 * Math.sqrt(0.25 / N));
        // idx ∈ [100, 400) → timestep ∈ [601, 900], uniform over 300 values
        Noising[] r = drawAll(TimestepConfig.defaults().withRange(100, 400, false), 32, 32);
        assertSupport(r, 601, 900);
        double[] ts = new double[N];
        for (int i = 0; i < N; i++) {
            ts[i] = r[i].timestep();
            assertTrue(ts[i] >= 601 && ts[i] <= 900, "timestep " + ts[i]);
        }
        assertMean("sigma mode 100..400", ts, 750.5, Math.sqrt((300.0 * 300 - 1) / 12));
        assertCdf("sigma mode 100..400", ts, 700.5, 100 / 300.0);
    }

    /** Every table timestep in lo..hi occurs (≈ 200 draws each at N = 200k), none outside. */
    private static void assertSupport(Noising[] ns, int lo, int hi) {
        boolean[] seen = new boolean[1001];
        for (Noising n : ns) {
            int t = (int) n.timestep();
            assertTrue(t >= lo && t <= hi, "timestep " + t + " outside " + lo + ".." + hi);
            seen[t] = true;
        }
        for (int t = lo; t <= hi; t++) {
            assertTrue(seen[t], "timestep " + t + " never drawn");
        }
    }

    @Test
    void sigma_mode_uses_the_weighting_densities() {
        // logit_normal: u = sigmoid(N(0.5, 2)); idx = floor(1000u) < 500 ⟺ u < 0.5, so P(timestep > 500) = Φ(−0.25)
        Noising[] ln = drawAll(TimestepConfig.defaults().withWeighting(WeightingScheme.LOGIT_NORMAL, 0.5, 2, 1.29), 32, 32);
        double[] neg = new double[N];
        for (int i = 0; i < N; i++) {
            neg[i] = -ln[i].timestep();
            assertEquals(1.0, ln[i].weight());
        }
        assertCdf("logit_normal", neg, -500, phi(-0.25));
        // mode: u = g(u0) = 1 − u0 − s·(cos²(π·u0/2) − 1 + u0), decreasing for s = 1.29, so P(u < g(a)) = 1 − a
        double scale = 1.29;
        DoubleUnaryOperator g = u0 -> 1 - u0 - scale * (Math.pow(Math.cos(Math.PI * u0 / 2), 2) - 1 + u0);
        Noising[] mode = drawAll(TimestepConfig.defaults().withWeighting(WeightingScheme.MODE, 0, 1, scale), 32, 32);
        double[] idx = new double[N];
        for (int i = 0; i < N; i++) {
            idx[i] = 1000 - mode[i].timestep();
        }
        for (int k : new int[] {200, 500, 800}) { // idx < k ⟺ u < k/1000 = g(a)
            double lo = 0;
            double hi = 1;
            for (int it = 0; it < 100; it++) {
                double mid = (lo + hi) / 2;
                if (g.applyAsDouble(mid) > k / 1000.0) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            assertCdf("mode", idx, k, 1 - lo);
        }
        // sigma_sqrt weights in sigma mode: σ⁻² of the table σ
        for (Noising n : drawAll(TimestepConfig.defaults().withWeighting(WeightingScheme.SIGMA_SQRT, 0, 1, 1.29), 4, 4)) {
            assertEquals(1 / (n.sigma() * n.sigma()), n.weight(), 1e-12);
        }
    }

    @Test
    void min_max_affine_squeeze() {
        Noising[] ns = drawAll(TimestepConfig.of(TimestepSampling.UNIFORM).withRange(200, 700, false), 32, 32);
        double[] t = sigmas(ns);
        for (double v : t) {
            assertTrue(v >= 0.2 && v <= 0.7, "t " + v);
        }
        assertMean("squeezed uniform", t, 0.45, 0.5 / Math.sqrt(12));
        assertCdf("squeezed uniform", t, 0.3, 0.2);
        assertOffset(ns);
        // the squeeze distorts a non-uniform shape: shift's median moves to 0.2 + 0.5·median
        double s = 3;
        double[] sh = sigmas(drawAll(TimestepConfig.of(TimestepSampling.SHIFT).withShift(s, 1).withRange(200, 700, false), 32, 32));
        assertCdf("squeezed shift", sh, 0.2 + 0.5 * 0.75, 0.5);
    }

    @Test
    void preserve_distribution_shape_truncates() {
        double s = 3;
        CollectingReporter r = new CollectingReporter();
        TimestepSampler sampler = new TimestepSampler(TimestepConfig.of(TimestepSampling.SHIFT).withShift(s, 1).withRange(200, 700, true), r);
        double[] t = sigmas(sampler.draw(N, 32, 32, RANDOM, 0));
        for (double v : t) {
            assertTrue(v >= 0.2 && v <= 0.7, "t " + v);
        }
        double lo = shiftCdf(s, 1, 0.2);
        double hi = shiftCdf(s, 1, 0.7);
        for (double x : new double[] {0.3, 0.45, 0.6, 0.75 - 1e-9}) {
            double xx = Math.min(x, 0.7);
            assertCdf("truncated shift", t, xx, (shiftCdf(s, 1, xx) - lo) / (hi - lo));
        }
        assertEquals(0, sampler.shapeFallbacks());
        assertTrue(r.warnings.isEmpty());
    }

    @Test
    void preserve_distribution_shape_falls_back_to_the_unfiltered_value() {
        // logsnr around mean 20: t ≈ sigmoid(−10), never in 900..1000
        CollectingReporter r = new CollectingReporter();
        TimestepConfig c = TimestepConfig.of(TimestepSampling.LOGSNR).withWeighting(WeightingScheme.NONE, 20, 1, 1.29)
                .withRange(900, 1000, true);
        TimestepSampler sampler = new TimestepSampler(c, r);
        Noising[] ns = sampler.draw(2, 32, 32, RANDOM, 0);
        assertEquals(2, sampler.shapeFallbacks());
        assertTrue(r.warned("TimestepConfig.preserveDistributionShape"), r.warnings.toString());
        for (Noising n : ns) {
            assertTrue(n.sigma() < 0.01);
        }
    }

    @Test
    void buckets_cover_every_interval_once_per_block() {
        int buckets = 10;
        TimestepSampler s = new TimestepSampler(TimestepConfig.of(TimestepSampling.UNIFORM).withBuckets(buckets));
        Noising[] ns = s.draw(20_000, 32, 32, RANDOM, 0);
        for (int c = 0; c < ns.length / buckets; c++) {
            boolean[] seen = new boolean[buckets];
            for (int i = 0; i < buckets; i++) {
                int k = (int) Math.floor(ns[c * buckets + i].sigma() * buckets);
                assertFalse(seen[k], "block " + c + " hits interval " + k + " twice");
                seen[k] = true;
            }
        }
        // a pure function of the global index: a batch at offset 7 is the same samples
        Noising[] part = s.draw(5, 32, 32, RANDOM, 7);
        for (int i = 0; i < 5; i++) {
            assertEquals(ns[7 + i], part[i]);
        }
        // with a monotone mode, block c's t's fall into the shifted quantile intervals, once each
        double shift = 3;
        Noising[] sh = new TimestepSampler(TimestepConfig.of(TimestepSampling.SHIFT).withShift(shift, 1).withBuckets(4))
                .draw(400, 32, 32, RANDOM, 0);
        for (int c = 0; c < 100; c++) {
            boolean[] seen = new boolean[4];
            for (int i = 0; i < 4; i++) {
                double t = sh[c * 4 + i].sigma();
                int k = 0;
                while (k < 3 && shiftCdf(shift, 1, t) >= (k + 1) / 4.0) {
                    k++;
                }
                assertFalse(seen[k], "shift block " + c + " quartile " + k + " twice");
                seen[k] = true;
            }
        }
        // bucketing leaves the marginal distribution alone
        double[] t = sigmas(s.draw(N, 32, 32, RANDOM, 0));
        assertCdf("bucketed uniform", t, 0.37, 0.37);
    }

    @Test
    void draws_are_pure_functions_of_the_global_index_and_the_key() {
        TimestepSampler s = new TimestepSampler(TimestepConfig.of(TimestepSampling.SHIFT).withShift(3, 1));
        Noising[] all = s.draw(12, 32, 32, RANDOM, 0);
        Noising[] tail = s.draw(4, 32, 32, new HostRandom(RANDOM.key(), 999), 8);
        assertArrayEquals(new Noising[] {all[8], all[9], all[10], all[11]}, tail, "the counter of the stream is not used");
        Noising[] other = s.draw(12, 32, 32, new HostRandom(HostRandom.key(SEED + 1, "timestep")), 0);
        assertTrue(other[0].sigma() != all[0].sigma());
    }

    @Test
    void a14b_redraws_to_the_side_of_the_boundary() {
        TimestepSampler s = new TimestepSampler(TimestepConfig.of(TimestepSampling.SHIFT).withShift(3, 1));
        double boundary = 0.875;
        for (long start = 0; start < 200; start += 8) {
            TimestepSampler.ExpertBatch b = s.drawForExperts(8, 32, 32, RANDOM, start, boundary);
            assertFalse(b.fellBack());
            assertEquals(TimestepSampler.isHigh(s.drawOne(32, 32, RANDOM, start, 0), boundary), b.high(), "sample 0 decides");
            for (Noising n : b.noisings()) {
                assertEquals(b.high(), n.timestep() / 1000 >= boundary, "timestep " + n.timestep());
            }
        }
        Noising[] low = s.drawOnSide(16, 32, 32, RANDOM, 0, boundary, false);
        assertNotNull(low);
        for (Noising n : low) {
            assertTrue(n.timestep() / 1000 < boundary);
        }
        // impossible side: t ≤ 0.5 never reaches 0.9 → null, and drawForExperts falls back to an unconstrained draw
        TimestepSampler capped = new TimestepSampler(TimestepConfig.of(TimestepSampling.UNIFORM).withRange(0, 500, false));
        assertNull(capped.drawOnSide(2, 32, 32, RANDOM, 0, 0.9, true));
        // sample 0 lands high (P = 0.0015), the others rarely do within 100 redraws → an unconstrained fresh draw
        TimestepSampler rare = new TimestepSampler(TimestepConfig.of(TimestepSampling.UNIFORM));
        double edge = 0.9995; // timestep/1000 ≥ 0.9995 ⟺ t ≥ 0.9985
        long start = 0;
        while (!TimestepSampler.isHigh(rare.drawOne(32, 32, RANDOM, start, 0), edge)) {
            start++;
        }
        TimestepSampler.ExpertBatch fb = rare.drawForExperts(8, 32, 32, RANDOM, start, edge);
        assertTrue(fb.high());
        assertTrue(fb.fellBack());
        for (int i = 0; i < 8; i++) {
            assertEquals(rare.drawOne(32, 32, RANDOM, start + i, TimestepSampler.ON_SIDE_ATTEMPTS), fb.noisings()[i]);
        }
    }

    @Test
    void continuous_weights_use_the_nearest_table_sigma() {
        TimestepSampler s = new TimestepSampler(TimestepConfig.of(TimestepSampling.UNIFORM).withWeighting(WeightingScheme.COSMAP, 0, 1, 1.29));
        for (Noising n : s.draw(1000, 32, 32, RANDOM, 0)) {
            double sigma = Math.min(1000, Math.max(1, Math.round(n.timestep()))) / 1000.0;
            assertEquals(2 / (Math.PI * (1 - 2 * sigma + 2 * sigma * sigma)), n.weight(), 1e-12);
        }
    }

    @Test
    void parse_and_validate() {
        assertEquals(TimestepSampling.FLUX_SHIFT, TimestepSampling.parse("flux_shift"));
        assertEquals(TimestepSampling.SIGMA, TimestepSampling.parse("sigma"));
        IllegalArgumentException ideogram = assertThrows(IllegalArgumentException.class, () -> TimestepSampling.parse("ideogram4_shift"));
        assertTrue(ideogram.getMessage().contains("not for Wan"), ideogram.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> TimestepSampling.parse("cosine"));
        assertTrue(unknown.getMessage().contains("qinglong_qwen"), unknown.getMessage());
        assertEquals(WeightingScheme.SIGMA_SQRT, WeightingScheme.parse("sigma_sqrt"));
        assertThrows(IllegalArgumentException.class, () -> WeightingScheme.parse("sqrt"));
        TimestepConfig base = TimestepConfig.of(TimestepSampling.SHIFT);
        assertMessage("TimestepConfig.minTimestep", () -> base.withRange(-1, null, false));
        assertMessage("TimestepConfig.maxTimestep", () -> base.withRange(null, 1001, false));
        assertMessage("TimestepConfig.minTimestep 500 must be smaller than TimestepConfig.maxTimestep 500",
                () -> base.withRange(500, 500, false));
        assertMessage("TimestepConfig.minTimestep 1000 must be smaller than TimestepConfig.maxTimestep 1000",
                () -> base.withRange(1000, null, false));
        assertMessage("TimestepConfig.logitStd", () -> base.withWeighting(WeightingScheme.NONE, 0, 0, 1.29));
        assertMessage("TimestepConfig.discreteFlowShift", () -> base.withShift(0, 1));
        assertMessage("TimestepConfig.numTimestepBuckets", () -> base.withBuckets(-2));
        assertEquals(0, base.withBuckets(1).buckets());
        assertEquals(5, base.withBuckets(5).buckets());
    }

    private static void assertMessage(String fragment, Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }
}
