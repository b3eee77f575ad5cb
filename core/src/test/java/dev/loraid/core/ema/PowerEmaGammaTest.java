package dev.loraid.core.ema;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.loraid.core.LoraidException;
import org.junit.jupiter.api.Test;

/** Spec loraid.md REQ-EMA-4..6, test case T-28 and the weight tables of REQ-EMA-6. */
class PowerEmaGammaTest {

    @Test
    void t28_gamma_solver() {
        double[][] cases = {{0.2, 1.826214}, {0.1, 6.937204}, {0.05, 16.972199}, {0.25, 0.719824}, {0.15, 3.557869},
            {PowerEmaGamma.MAX_SIGMA_REL, 0.0}};
        for (double[] c : cases) {
            double g = PowerEmaGamma.gamma(c[0]);
            assertEquals(c[1], g, 1e-6, "sigma_rel " + c[0]);
            // independent check: σ² = (γ+1) / ((γ+2)²(γ+3))
            assertEquals(c[0] * c[0], (g + 1) / ((g + 2) * (g + 2) * (g + 3)), 1e-12);
        }
        assertEquals(1.8262137798958404, PowerEmaGamma.gamma(0.2), 1e-12); // golden README value
        for (double bad : new double[] {0.3, 0, -0.1, Double.NaN}) {
            LoraidException e = assertThrows(LoraidException.class, () -> PowerEmaGamma.gamma(bad));
            assertTrue(e.getMessage().contains("(0, 0.2887]"), e.getMessage());
        }
    }

    @Test
    void power_weights() {
        EmaSchedule s = EmaSchedule.Power.of(0.2, false);
        assertArrayEquals(new double[] {0.141002, 0.858998}, EmaSchedule.effectiveWeights(s.betas(2)), 1e-6);
        assertArrayEquals(new double[] {0.044828, 0.273099, 0.682072}, EmaSchedule.effectiveWeights(s.betas(3)), 1e-6);
        assertArrayEquals(new double[] {0.019882, 0.121120, 0.302501, 0.556497}, EmaSchedule.effectiveWeights(s.betas(4)), 1e-6);
        assertArrayEquals(new double[] {0.14100187184516438, 0.31792776509256704, 0.4435028560783632}, s.betas(4), 1e-12);
        EmaSchedule compat = EmaSchedule.Power.of(0.2, true);
        assertArrayEquals(new double[] {0, 1}, EmaSchedule.effectiveWeights(compat.betas(2)), 1e-12);
        assertArrayEquals(new double[] {0, 0.141002, 0.858998}, EmaSchedule.effectiveWeights(compat.betas(3)), 1e-6);
    }

    @Test
    void linear_weights_and_mode_selection() {
        EmaSchedule lin = EmaSchedule.select(null, 0.9, 0.5, false);
        assertArrayEquals(new double[] {0.45, 0.05, 0.5}, EmaSchedule.effectiveWeights(lin.betas(3)), 1e-12);
        assertArrayEquals(new double[] {0.95, 0.97, 0.99}, EmaSchedule.select(null, 0.95, 0.99, false).betas(4), 1e-12);
        assertArrayEquals(new double[] {0.9}, EmaSchedule.select(null, 0.9, null, false).betas(2), 0);
        assertTrue(EmaSchedule.select(null, null, null, false) instanceof EmaSchedule.Power p && p.sigmaRel() == 0.2);
        LoraidException e = assertThrows(LoraidException.class, () -> EmaSchedule.select(0.2, 0.9, null, false));
        assertTrue(e.getMessage().contains("both modes"), e.getMessage());
        assertThrows(LoraidException.class, () -> EmaSchedule.select(null, 1.5, null, false));
    }
}
