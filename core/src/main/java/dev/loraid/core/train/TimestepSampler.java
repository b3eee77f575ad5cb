package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import dev.loraid.core.Reporter;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Draws each sample's noise level (spec training.md §1.1, §1.3–§1.5, §1.7) from a {@link HostRandom} key as a
 * pure function of the global sample index, so a resumed run draws exactly what the uninterrupted one would have.
 *
 * <p>Sample j (global index, counted over the whole run) reads only the sub-stream
 * {@code HostRandom.key(random.key(), "timestep", j, attempt, round)}, where attempt is the §1.7 redraw (0 for a
 * plain {@link #draw}) and round the §1.4 rejection round (0 without --preserve_distribution_shape). Its first
 * uniform v feeds {@code rand} and {@code randn = Φ⁻¹(v)}; qinglong's mixture selector is the second.
 *
 * <p><b>Departures from upstream</b>, all for resumability and none changing a distribution:
 * <ul>
 * <li>Timestep buckets (§1.5) are a pure function instead of upstream's stateful shuffled pool: with N ≥ 2
 * buckets, sample j takes interval {@code perm_c[j mod N]} with {@code c = j / N}, where {@code perm_c} is a
 * Fisher–Yates shuffle of 0..N−1 keyed by {@code HostRandom.key(random.key(), "timestep_buckets", attempt, round,
 * c)}; v = (interval + u)/N with u from the sample's sub-stream. Every block of N consecutive samples covers each
 * interval once, as one refill of upstream's pool does (upstream's dataset-side pool spans batches the same way).
 * <li>--preserve_distribution_shape rejects per sample (up to 1000 rounds each) instead of collecting a batch
 * over rounds; both keep the truncated distribution. A sample that never lands in range keeps its last unfiltered
 * value (upstream's fallback, which uses the last unfiltered batch), is counted in {@link #shapeFallbacks()} and
 * is reported as a warning.
 * <li>The index of sigma mode is clamped into the table (0..999): upstream would index out of range at u = 1,
 * which the mode density reaches only at u0 = 0.
 * </ul>
 */
public final class TimestepSampler {
    /** Rejection rounds of --preserve_distribution_shape (§1.4). */
    public static final int PRESERVE_ROUNDS = 1000;
    /** Redraws per sample of the A14B expert constraint (§1.7). */
    public static final int ON_SIDE_ATTEMPTS = 100;
    /** The low-noise logsnr component of the qinglong mixtures (§1.4). */
    static final double QINGLONG_LOW_NOISE_MEAN = 5.36;
    static final double QINGLONG_LOW_NOISE_STD = 1.0;
    /** Bucketed uniforms are clamped to [ε, 1 − ε] before Φ⁻¹ (§1.4). */
    static final double BUCKET_CLAMP = 1e-7;

    private record Permutation(long key, int[] order) {
    }

    private final TimestepConfig config;
    private final Reporter reporter;
    private final AtomicLong shapeFallbacks = new AtomicLong();
    private volatile Permutation lastPermutation;

    public TimestepSampler(TimestepConfig config) {
        this(config, Reporter.SILENT);
    }

    /** @param reporter receives the warning when --preserve_distribution_shape gives up on a sample */
    public TimestepSampler(TimestepConfig config, Reporter reporter) {
        this.config = config;
        this.reporter = reporter;
    }

    public TimestepConfig config() {
        return config;
    }

    /** How many samples so far fell back to an unfiltered value after {@link #PRESERVE_ROUNDS} rejections. */
    public long shapeFallbacks() {
        return shapeFallbacks.get();
    }

    /**
     * The noise levels of one batch.
     *
     * @param latentH     latent height (the resolution-dependent shift modes use the raw latent H, W)
     * @param latentW     latent width
     * @param random      the run's timestep stream; only its {@link HostRandom#key() key} is used
     * @param sampleIndex the global index of the batch's first sample
     */
    public Noising[] draw(int batchSize, long latentH, long latentW, HostRandom random, long sampleIndex) {
        checkBatch(batchSize, sampleIndex);
        Noising[] out = new Noising[batchSize];
        for (int i = 0; i < batchSize; i++) {
            out[i] = drawOne(latentH, latentW, random, sampleIndex + i, 0);
        }
        return out;
    }

    /** The noise level of sample {@code sampleIndex} at redraw {@code attempt} (0: what {@link #draw} gives). */
    public Noising drawOne(long latentH, long latentW, HostRandom random, long sampleIndex, int attempt) {
        if (sampleIndex < 0 || attempt < 0) {
            throw new IllegalArgumentException("sample index " + sampleIndex + " and attempt " + attempt + " must not be negative");
        }
        long key = random.key();
        if (!config.sampling().continuous()) {
            return sigmaMode(new HostRandom(HostRandom.key(key, "timestep", sampleIndex, attempt, 0)));
        }
        double tMin = config.minTimestepOrDefault() / 1000.0;
        double tMax = config.maxTimestepOrDefault() / 1000.0;
        double t;
        if (!config.preserveDistributionShape()) {
            t = rawT(key, sampleIndex, attempt, 0, latentH, latentW);
            t = t * (tMax - tMin) + tMin; // §1.4 affine squeeze
        } else {
            t = Double.NaN;
            for (int round = 0; round < PRESERVE_ROUNDS; round++) {
                t = rawT(key, sampleIndex, attempt, round, latentH, latentW);
                if (t >= tMin && t <= tMax) {
                    break;
                }
                if (round == PRESERVE_ROUNDS - 1) {
                    shapeFallbacks.incrementAndGet();
                    reporter.warn(named(param("TimestepConfig.preserveDistributionShape"), ": no timestep in ["
                            + config.minTimestepOrDefault() + ", "
                            + config.maxTimestepOrDefault() + "] after " + PRESERVE_ROUNDS + " draws for sample "
                            + sampleIndex + "; using the last unfiltered value " + t * 1000));
                }
            }
        }
        double timestep = t * 1000 + 1; // §1.1: the +1 is upstream's ("1 to 1000")
        return new Noising(t, timestep, config.weighting().weightAtTimestep(timestep));
    }

    /**
     * §1.7 step 2 for Wan 2.2 A14B dual-expert training: each sample is redrawn (attempts 0..99 of
     * {@link #drawOne}) until its timestep is on the required side of the boundary (high: timestep/1000 ≥ boundary,
     * on the +1-offset timestep; low: below).
     *
     * @return the batch, or null when some sample never reached the side: upstream then falls back to an
     * unconstrained draw of the whole batch ({@link #drawForExperts} does that)
     */
    public Noising[] drawOnSide(int batchSize, long latentH, long latentW, HostRandom random, long sampleIndex,
            double boundary, boolean high) {
        checkBatch(batchSize, sampleIndex);
        Noising[] out = new Noising[batchSize];
        for (int i = 0; i < batchSize; i++) {
            for (int a = 0; a < ON_SIDE_ATTEMPTS && out[i] == null; a++) {
                Noising n = drawOne(latentH, latentW, random, sampleIndex + i, a);
                if (isHigh(n, boundary) == high) {
                    out[i] = n;
                }
            }
            if (out[i] == null) {
                return null;
            }
        }
        return out;
    }

    /** The A14B expert choice of a sample: timestep/1000 ≥ boundary (§1.7, the +1-offset timestep). */
    public static boolean isHigh(Noising n, double boundary) {
        return n.timestep() / 1000.0 >= boundary;
    }

    /**
     * A batch for dual-expert training (§1.7 steps 1–2).
     *
     * @param high     the expert: whether sample 0's plain draw is high-noise
     * @param fellBack true when the constrained draw failed and {@code noisings} is an unconstrained fresh draw
     *                 (redraw attempt {@link #ON_SIDE_ATTEMPTS}), whose samples may lie on either side
     */
    public record ExpertBatch(boolean high, Noising[] noisings, boolean fellBack) {
    }

    public ExpertBatch drawForExperts(int batchSize, long latentH, long latentW, HostRandom random, long sampleIndex,
            double boundary) {
        checkBatch(batchSize, sampleIndex);
        boolean high = isHigh(drawOne(latentH, latentW, random, sampleIndex, 0), boundary);
        Noising[] on = drawOnSide(batchSize, latentH, latentW, random, sampleIndex, boundary, high);
        if (on != null) {
            return new ExpertBatch(high, on, false);
        }
        Noising[] any = new Noising[batchSize];
        for (int i = 0; i < batchSize; i++) {
            any[i] = drawOne(latentH, latentW, random, sampleIndex + i, ON_SIDE_ATTEMPTS);
        }
        return new ExpertBatch(high, any, true);
    }

    /** §1.3: u from the weighting-scheme density, index into the table, timestep = 1000 − idx, σ = timestep/1000. */
    private Noising sigmaMode(HostRandom r) {
        double u = switch (config.weighting()) {
            case LOGIT_NORMAL -> sigmoid(config.logitMean() + config.logitStd() * r.normal());
            case MODE -> {
                double u0 = r.uniform();
                double c = Math.cos(Math.PI * u0 / 2);
                yield 1 - u0 - config.modeScale() * (c * c - 1 + u0);
            }
            case NONE, COSMAP, SIGMA_SQRT -> r.uniform();
        };
        int lo = config.minTimestepOrDefault();
        int hi = config.maxTimestepOrDefault();
        long idx = (long) Math.floor(u * (hi - lo) + lo);
        idx = Math.max(0, Math.min(999, idx));
        double timestep = 1000 - idx;
        double sigma = timestep / 1000.0;
        return new Noising(sigma, timestep, config.weighting().weight(sigma));
    }

    /** t in [0, 1] before min/max handling (§1.4). */
    private double rawT(long key, long j, int attempt, int round, long h, long w) {
        HostRandom r = new HostRandom(HostRandom.key(key, "timestep", j, attempt, round));
        int n = config.buckets();
        double v;
        double normal;
        if (n >= 2) {
            int interval = permutation(HostRandom.key(key, "timestep_buckets", attempt, round, Math.floorDiv(j, n)), n)[(int) Math.floorMod(j, n)];
            v = (interval + r.uniform()) / n;
            normal = HostRandom.probit(Math.min(1 - BUCKET_CLAMP, Math.max(BUCKET_CLAMP, v)));
        } else {
            v = r.uniform();
            normal = HostRandom.probit(v);
        }
        double scale = config.sigmoidScale();
        return switch (config.sampling()) {
            case UNIFORM -> v;
            case SIGMOID -> sigmoid(scale * normal);
            case SHIFT -> shift(config.discreteFlowShift(), sigmoid(scale * normal));
            case FLUX_SHIFT, FLUX2_SHIFT, QWEN_SHIFT, KREA2_SHIFT -> shift(shiftFor(config.sampling(), h, w), sigmoid(scale * normal));
            case LOGSNR -> logsnr(config.logitMean(), config.logitStd(), normal);
            case QINGLONG_FLUX -> {
                double d = r.uniform();
                if (d < 0.79) {
                    yield shift(shiftFor(TimestepSampling.FLUX_SHIFT, h, w), sigmoid(scale * normal));
                }
                yield d < 0.9 ? logsnr(config.logitMean(), config.logitStd(), normal)
                        : logsnr(QINGLONG_LOW_NOISE_MEAN, QINGLONG_LOW_NOISE_STD, normal);
            }
            case QINGLONG_QWEN -> {
                double d = r.uniform();
                yield d < 0.95 ? shift(shiftFor(TimestepSampling.QWEN_SHIFT, h, w), sigmoid(scale * normal))
                        : logsnr(QINGLONG_LOW_NOISE_MEAN, QINGLONG_LOW_NOISE_STD, normal);
            }
            case SIGMA -> throw new IllegalStateException("sigma mode is discrete");
        };
    }

    /**
     * The shift s = exp(mu) of a resolution-dependent mode at latent size h×w (§1.4; halves are integer
     * divisions), or --discrete_flow_shift for {@code shift}.
     */
    public double shiftFor(TimestepSampling mode, long h, long w) {
        return switch (mode) {
            case SHIFT -> config.discreteFlowShift();
            case FLUX_SHIFT -> Math.exp(lin(256, 0.5, 4096, 1.15, (h / 2) * (w / 2)));
            case FLUX2_SHIFT -> Math.exp(lin(256, 0.5, 4096, 1.15, h * w));
            case QWEN_SHIFT -> Math.exp(lin(256, 0.5, 8192, 0.9, (h / 2) * (w / 2)));
            case KREA2_SHIFT -> Math.exp(lin(256, 0.5, 6400, 1.15, (h / 2) * (w / 2)));
            default -> throw new ParameterException(named(param("TimestepConfig.sampling"), " " + mode.flagValue()
                    + " has no shift"));
        };
    }

    /** get_lin_function: the line through (x1, y1) and (x2, y2), at x. */
    static double lin(double x1, double y1, double x2, double y2, double x) {
        double m = (y2 - y1) / (x2 - x1);
        return m * x + (y1 - m * x1);
    }

    /** The time shift s·z / (1 + (s − 1)·z). */
    static double shift(double s, double z) {
        return s * z / (1 + (s - 1) * z);
    }

    /** logsnr: l ~ N(mean, std), t = sigmoid(−l/2). */
    private static double logsnr(double mean, double std, double normal) {
        return sigmoid(-(mean + std * normal) / 2);
    }

    static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    /** A Fisher–Yates shuffle of 0..n−1 from stream {@code key}; the last one is memoised (pure, so harmless). */
    int[] permutation(long key, int n) {
        Permutation last = lastPermutation;
        if (last != null && last.key() == key && last.order().length == n) {
            return last.order();
        }
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        HostRandom r = new HostRandom(key);
        for (int i = n - 1; i > 0; i--) {
            int k = (int) (r.uniform() * (i + 1));
            int tmp = order[i];
            order[i] = order[k];
            order[k] = tmp;
        }
        lastPermutation = new Permutation(key, order);
        return order;
    }

    private static void checkBatch(int batchSize, long sampleIndex) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size " + batchSize + " must be at least 1");
        }
        if (sampleIndex < 0) {
            throw new IllegalArgumentException("sample index " + sampleIndex + " must not be negative");
        }
    }
}
