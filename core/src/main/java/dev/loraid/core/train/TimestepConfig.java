package dev.loraid.core.train;

/**
 * The timestep flags (spec training.md §1.2), validated at construction with messages naming the flag.
 *
 * @param sampling                  {@code --timestep_sampling}
 * @param discreteFlowShift         {@code --discrete_flow_shift} (shift mode), &gt; 0
 * @param sigmoidScale              {@code --sigmoid_scale} (sigmoid and *shift modes)
 * @param weighting                 {@code --weighting_scheme}
 * @param logitMean                 {@code --logit_mean} (logit_normal, logsnr, qinglong)
 * @param logitStd                  {@code --logit_std}, &gt; 0
 * @param modeScale                 {@code --mode_scale} (mode)
 * @param minTimestep               {@code --min_timestep}, 0..1000, or null (0)
 * @param maxTimestep               {@code --max_timestep}, 0..1000, or null (1000)
 * @param preserveDistributionShape {@code --preserve_distribution_shape}
 * @param numTimestepBuckets        {@code --num_timestep_buckets}, or null; below 2 means no bucketing
 */
public record TimestepConfig(TimestepSampling sampling, double discreteFlowShift, double sigmoidScale,
        WeightingScheme weighting, double logitMean, double logitStd, double modeScale, Integer minTimestep,
        Integer maxTimestep, boolean preserveDistributionShape, Integer numTimestepBuckets) {

    public TimestepConfig {
        if (sampling == null) {
            throw new IllegalArgumentException("--timestep_sampling must be given");
        }
        if (weighting == null) {
            throw new IllegalArgumentException("--weighting_scheme must be given");
        }
        if (!(discreteFlowShift > 0) || Double.isInfinite(discreteFlowShift)) {
            throw new IllegalArgumentException("--discrete_flow_shift " + discreteFlowShift + ": expected a finite value > 0");
        }
        if (!Double.isFinite(sigmoidScale)) {
            throw new IllegalArgumentException("--sigmoid_scale " + sigmoidScale + ": expected a finite value");
        }
        if (!Double.isFinite(logitMean)) {
            throw new IllegalArgumentException("--logit_mean " + logitMean + ": expected a finite value");
        }
        if (!(logitStd > 0) || Double.isInfinite(logitStd)) {
            throw new IllegalArgumentException("--logit_std " + logitStd + ": expected a finite value > 0");
        }
        if (!Double.isFinite(modeScale)) {
            throw new IllegalArgumentException("--mode_scale " + modeScale + ": expected a finite value");
        }
        checkRange("--min_timestep", minTimestep);
        checkRange("--max_timestep", maxTimestep);
        int lo = minTimestep == null ? 0 : minTimestep;
        int hi = maxTimestep == null ? 1000 : maxTimestep;
        if (lo >= hi) {
            throw new IllegalArgumentException("--min_timestep " + lo + " must be smaller than --max_timestep " + hi);
        }
        if (numTimestepBuckets != null && numTimestepBuckets < 0) {
            throw new IllegalArgumentException("--num_timestep_buckets " + numTimestepBuckets + " must not be negative");
        }
    }

    private static void checkRange(String flag, Integer v) {
        if (v != null && (v < 0 || v > 1000)) {
            throw new IllegalArgumentException(flag + " " + v + ": expected an integer in 0..1000");
        }
    }

    /** {@code sampling} with every other flag at its CLI default (§1.2). */
    public static TimestepConfig of(TimestepSampling sampling) {
        return new TimestepConfig(sampling, 1.0, 1.0, WeightingScheme.NONE, 0.0, 1.0, 1.29, null, null, false, null);
    }

    /** The CLI defaults: {@code sigma} sampling. */
    public static TimestepConfig defaults() {
        return of(TimestepSampling.SIGMA);
    }

    /** --min_timestep, 0 when unset. */
    public int minTimestepOrDefault() {
        return minTimestep == null ? 0 : minTimestep;
    }

    /** --max_timestep, 1000 when unset. */
    public int maxTimestepOrDefault() {
        return maxTimestep == null ? 1000 : maxTimestep;
    }

    /** N when timestep bucketing is on (N ≥ 2, §1.5), else 0. */
    public int buckets() {
        return numTimestepBuckets != null && numTimestepBuckets >= 2 ? numTimestepBuckets : 0;
    }

    public TimestepConfig withSampling(TimestepSampling s) {
        return new TimestepConfig(s, discreteFlowShift, sigmoidScale, weighting, logitMean, logitStd, modeScale,
                minTimestep, maxTimestep, preserveDistributionShape, numTimestepBuckets);
    }

    public TimestepConfig withShift(double shift, double scale) {
        return new TimestepConfig(sampling, shift, scale, weighting, logitMean, logitStd, modeScale,
                minTimestep, maxTimestep, preserveDistributionShape, numTimestepBuckets);
    }

    public TimestepConfig withWeighting(WeightingScheme w, double mean, double std, double mode) {
        return new TimestepConfig(sampling, discreteFlowShift, sigmoidScale, w, mean, std, mode,
                minTimestep, maxTimestep, preserveDistributionShape, numTimestepBuckets);
    }

    public TimestepConfig withRange(Integer min, Integer max, boolean preserveShape) {
        return new TimestepConfig(sampling, discreteFlowShift, sigmoidScale, weighting, logitMean, logitStd, modeScale,
                min, max, preserveShape, numTimestepBuckets);
    }

    public TimestepConfig withBuckets(Integer n) {
        return new TimestepConfig(sampling, discreteFlowShift, sigmoidScale, weighting, logitMean, logitStd, modeScale,
                minTimestep, maxTimestep, preserveDistributionShape, n);
    }
}
