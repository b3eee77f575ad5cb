package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
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
            throw new ParameterException(named(param("TimestepConfig.sampling"), " must be given"));
        }
        if (weighting == null) {
            throw new ParameterException(named(param("TimestepConfig.weighting"), " must be given"));
        }
        if (!(discreteFlowShift > 0) || Double.isInfinite(discreteFlowShift)) {
            throw new ParameterException(named(param("TimestepConfig.discreteFlowShift"), " " + discreteFlowShift
                    + ": expected a finite value > 0"));
        }
        if (!Double.isFinite(sigmoidScale)) {
            throw new ParameterException(named(param("TimestepConfig.sigmoidScale"), " " + sigmoidScale
                    + ": expected a finite value"));
        }
        if (!Double.isFinite(logitMean)) {
            throw new ParameterException(named(param("TimestepConfig.logitMean"), " " + logitMean
                    + ": expected a finite value"));
        }
        if (!(logitStd > 0) || Double.isInfinite(logitStd)) {
            throw new ParameterException(named(param("TimestepConfig.logitStd"), " " + logitStd
                    + ": expected a finite value > 0"));
        }
        if (!Double.isFinite(modeScale)) {
            throw new ParameterException(named(param("TimestepConfig.modeScale"), " " + modeScale
                    + ": expected a finite value"));
        }
        checkRange("TimestepConfig.minTimestep", minTimestep);
        checkRange("TimestepConfig.maxTimestep", maxTimestep);
        int lo = minTimestep == null ? 0 : minTimestep;
        int hi = maxTimestep == null ? 1000 : maxTimestep;
        if (lo >= hi) {
            throw new ParameterException(named(param("TimestepConfig.minTimestep"), " " + lo
                    + " must be smaller than ", param("TimestepConfig.maxTimestep"), " " + hi));
        }
        if (numTimestepBuckets != null && numTimestepBuckets < 0) {
            throw new ParameterException(named(param("TimestepConfig.numTimestepBuckets"), " " + numTimestepBuckets
                    + " must not be negative"));
        }
    }

    private static void checkRange(String parameter, Integer v) {
        if (v != null && (v < 0 || v > 1000)) {
            throw new ParameterException(named(param(parameter), " " + v + ": expected an integer in 0..1000"));
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
