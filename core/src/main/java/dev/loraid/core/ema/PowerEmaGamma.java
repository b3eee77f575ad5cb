package dev.loraid.core.ema;

import dev.loraid.core.LoraidException;

/**
 * σ_rel → γ of the power-function EMA (Karras et al. 2023; spec loraid.md REQ-EMA-5): the unique non-negative root of
 * {@code γ³ + 7γ² + (16 − σ⁻²)γ + (12 − σ⁻²) = 0}, i.e. {@code σ² = (γ+1) / ((γ+2)²(γ+3))}. It exists iff
 * {@code 0 < σ ≤ 1/√12}; the reference crashed outside that range (D-24).
 */
public final class PowerEmaGamma {
    /** 1/√12, the largest σ_rel (γ = 0 there). */
    public static final double MAX_SIGMA_REL = 1 / Math.sqrt(12);

    private PowerEmaGamma() {
    }

    public static double gamma(double sigmaRel) {
        double inv2 = 1 / (sigmaRel * sigmaRel);
        // 1e-12 slack: 1/√12 itself squares to a hair under 1/12 in binary
        if (!(sigmaRel > 0) || inv2 < 12 - 1e-12 || !Double.isFinite(inv2)) {
            throw new LoraidException("sigma_rel must be in (0, 0.2887], got " + sigmaRel);
        }
        if (inv2 <= 12) {
            return 0;
        }
        // f(0) = 12 − σ⁻² < 0 and f(σ⁻²) > 0: bisect, then polish with Newton steps
        double lo = 0;
        double hi = Math.max(1, inv2);
        for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
            double mid = 0.5 * (lo + hi);
            if (f(mid, inv2) > 0) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        double g = 0.5 * (lo + hi);
        for (int i = 0; i < 3; i++) {
            double d = 3 * g * g + 14 * g + 16 - inv2;
            if (d == 0) {
                break;
            }
            double next = g - f(g, inv2) / d;
            if (next < lo || next > hi) {
                break;
            }
            g = next;
        }
        return g > -1e-9 && g < 0 ? 0 : g;
    }

    static double f(double g, double inv2) {
        return ((g + 7) * g + (16 - inv2)) * g + (12 - inv2);
    }
}
