package dev.loraid.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Loss weights (spec training.md §1.6) against hand-computed values. */
class WeightingSchemeTest {
    @Test
    void sigma_sqrt_is_the_inverse_square() {
        assertEquals(4.0, WeightingScheme.SIGMA_SQRT.weight(0.5), 1e-15);
        assertEquals(100.0, WeightingScheme.SIGMA_SQRT.weight(0.1), 1e-12);
        assertEquals(1.0, WeightingScheme.SIGMA_SQRT.weight(1.0), 0);
        assertEquals(1e6, WeightingScheme.SIGMA_SQRT.weight(0.001), 1e-6);
    }

    @Test
    void cosmap() {
        assertEquals(4 / Math.PI, WeightingScheme.COSMAP.weight(0.5), 1e-15, "1 − 1 + 0.5 = 0.5");
        assertEquals(2 / (0.625 * Math.PI), WeightingScheme.COSMAP.weight(0.25), 1e-15, "1 − 0.5 + 0.125");
        assertEquals(2 / Math.PI, WeightingScheme.COSMAP.weight(1.0), 1e-15);
        assertEquals(2 / (0.82 * Math.PI), WeightingScheme.COSMAP.weight(0.1), 1e-14, "1 − 0.2 + 0.02");
    }

    @Test
    void the_other_schemes_do_not_weight() {
        for (WeightingScheme w : new WeightingScheme[] {WeightingScheme.NONE, WeightingScheme.LOGIT_NORMAL, WeightingScheme.MODE}) {
            assertEquals(1.0, w.weight(0.3), 0, w.flagValue());
        }
    }

    @Test
    void table_sigma_rounds_to_the_nearest_timestep() {
        assertEquals(0.3, WeightingScheme.tableSigma(300), 0);
        assertEquals(0.3, WeightingScheme.tableSigma(300.4), 0);
        assertEquals(0.301, WeightingScheme.tableSigma(300.5), 0, "a tie takes the larger timestep");
        assertEquals(0.301, WeightingScheme.tableSigma(301), 0);
        assertEquals(1.0, WeightingScheme.tableSigma(1001), 0, "σ·1000 + 1 reaches 1001");
        assertEquals(0.001, WeightingScheme.tableSigma(0.2), 0);
        assertEquals(4 / Math.PI, WeightingScheme.COSMAP.weightAtTimestep(500.3), 1e-15);
    }
}
