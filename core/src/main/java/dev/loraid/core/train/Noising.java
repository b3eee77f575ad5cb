package dev.loraid.core.train;

/**
 * One sample's noise level (spec training.md §1.1, §1.3, §1.6).
 *
 * @param sigma    the mixing weight of the noise: noisy = (1 − σ)·x0 + σ·ε
 * @param timestep the value handed to the DiT: σ·1000 + 1 in the continuous modes, the table value
 *                 1000 − idx (= σ·1000) in sigma mode
 * @param weight   the loss weight of the sample
 */
public record Noising(double sigma, double timestep, double weight) {
}
