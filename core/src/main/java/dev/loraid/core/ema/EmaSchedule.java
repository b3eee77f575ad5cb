package dev.loraid.core.ema;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.LoraidException;

/**
 * The per-step decay β_k of post-hoc EMA over N epoch files f₀ … f_{N−1} (oldest first): {@code s ← f₀}, then
 * {@code s ← β_k·s + (1 − β_k)·f_k} for k = 1 … N−1 (spec loraid.md REQ-EMA-4, REQ-EMA-6).
 */
public sealed interface EmaSchedule {

    /** β_1 … β_{N−1} (index 0 holds β_1). */
    double[] betas(int files);

    /** A human-readable description for logs and metadata. */
    String describe();

    /**
     * Power-function EMA for σ_rel. This spec counts the oldest file as step t = 1, so β_k = (k/(k+1))^(γ+1);
     * {@code referenceCompat} restores the reference's t = k, whose β_1 = 0 discards f₀ (D-22).
     */
    record Power(double sigmaRel, double gamma, boolean referenceCompat) implements EmaSchedule {
        public static Power of(double sigmaRel, boolean referenceCompat) {
            return new Power(sigmaRel, PowerEmaGamma.gamma(sigmaRel), referenceCompat);
        }

        @Override
        public double[] betas(int files) {
            double[] b = new double[Math.max(0, files - 1)];
            for (int k = 1; k < files; k++) {
                double t = referenceCompat ? k : k + 1;
                b[k - 1] = Math.pow(1 - 1 / t, gamma + 1);
            }
            return b;
        }

        @Override
        public String describe() {
            return "power EMA sigma_rel=" + sigmaRel + " gamma=" + gamma + (referenceCompat ? " (reference t=k)" : "");
        }
    }

    /** Linear β from β₁ (first merge) to β₂ (last merge): β_k = β₁ + (β₂ − β₁)(k−1)/(N−2); β₁ alone when N = 2. */
    record Linear(double beta1, double beta2) implements EmaSchedule {
        public Linear {
            for (double b : new double[] {beta1, beta2}) {
                if (!(b >= 0 && b <= 1)) {
                    throw new LoraidException(named(param("EmaSchedule.beta"), " and ", param("EmaSchedule.beta2"),
                            " must be in [0, 1], got " + b));
                }
            }
        }

        @Override
        public double[] betas(int files) {
            double[] b = new double[Math.max(0, files - 1)];
            for (int k = 1; k < files; k++) {
                b[k - 1] = files == 2 ? beta1 : beta1 + (beta2 - beta1) * (k - 1) / (files - 2);
            }
            return b;
        }

        @Override
        public String describe() {
            return "linear EMA beta=" + beta1 + " beta2=" + beta2;
        }
    }

    /**
     * The schedule the parameters ask for (REQ-EMA-4); null means "not given". Explicit β without σ_rel → linear;
     * both → error (the reference's default σ_rel made linear mode unreachable — D-23); otherwise power, σ_rel 0.2.
     */
    public static EmaSchedule select(Double sigmaRel, Double beta, Double beta2, boolean referenceCompat) {
        if (sigmaRel != null && (beta != null || beta2 != null)) {
            throw new LoraidException(named(param("EmaSchedule.sigmaRel"), " and ", param("EmaSchedule.beta"), "/",
                    param("EmaSchedule.beta2"), " select both modes (power and linear EMA): give one"));
        }
        if (beta != null || beta2 != null) {
            double b1 = beta != null ? beta : 0.95;
            return new Linear(b1, beta2 != null ? beta2 : b1);
        }
        return Power.of(sigmaRel != null ? sigmaRel : 0.2, referenceCompat);
    }

    /** The weight each file ends up with: w_0 = Π β, w_k = (1 − β_k) Π_{j>k} β_j. They sum to 1. */
    public static double[] effectiveWeights(double[] betas) {
        int n = betas.length + 1;
        double[] w = new double[n];
        double tail = 1;
        for (int k = n - 1; k >= 1; k--) {
            w[k] = (1 - betas[k - 1]) * tail;
            tail *= betas[k - 1];
        }
        w[0] = tail;
        return w;
    }
}
