package dev.loraid.wan.sample;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The schedules against the spec's formulas (training.md §6.4), independent of the golden file. */
class FlowSamplingTest {
    @Test
    void unipcTimestepsTruncateTheFloat64ShiftedGridAndSigmasAreFloat32() {
        for (int n : new int[] {1, 8, 50}) {
            for (double shift : new double[] {1.0, 3.0, 5.0, 12.0}) {
                FlowSchedule s = FlowSchedule.unipc(n, shift);
                double sigmaMax = (float) 0.999;
                for (int i = 0; i < n; i++) {
                    double base = sigmaMax + i * (0 - sigmaMax) / n;
                    double shifted = shift * base / (1 + (shift - 1) * base);
                    assertEquals((double) (long) (shifted * 1000), s.timesteps()[i], 0, "unipc t[" + i + "]");
                    assertEquals((float) shifted, s.sigmas()[i], 0, "unipc σ[" + i + "]");
                }
                assertEquals(0.0, s.sigmas()[n]);
            }
        }
        // the spec's worked example: 8 steps at shift 5
        assertEquals(java.util.Arrays.toString(new double[] {999, 972, 937, 892, 833, 749, 624, 416}),
                java.util.Arrays.toString(FlowSchedule.unipc(8, 5).timesteps()));
        assertEquals(0.99979985f, (float) FlowSchedule.unipc(8, 5).sigmas()[0]);
    }

    @Test
    void dpmppStartsAtSigmaOneAndTimestep1000() {
        FlowSchedule s = FlowSchedule.dpmpp(8, 5);
        assertEquals(java.util.Arrays.toString(new double[] {1000, 972, 937, 892, 833, 750, 625, 416}),
                java.util.Arrays.toString(s.timesteps()));
        assertEquals(1.0, s.sigmas()[0]);
        for (int i = 0; i < 8; i++) {
            double base = 1 - i / 8.0;
            assertEquals((float) (5 * base / (1 + 4 * base)), s.sigmas()[i], 0);
        }
    }

    @Test
    void vanillaIsFloat32AndNotTruncated() {
        FlowSchedule s = FlowSchedule.vanilla(4, 5.0);
        // σ = 1, .75, .5, .25, 0 shifted by 5: 5σ / (1 + 4σ), in float32
        double[] want = {1, 3.75f / 4f, 2.5f / 3f, 1.25f / 2f, 0};
        for (int i = 0; i <= 4; i++) {
            assertEquals((float) want[i], s.sigmas()[i], 0, "σ[" + i + "]");
        }
        assertEquals(1000f, s.timesteps()[0], 0);
        assertEquals((3.75f / 4f) * 1000f, s.timesteps()[1], 0, "float32 σ·1000, not truncated");
        assertEquals(1000, FlowSchedule.vanilla(1, 12).timesteps()[0]);
    }

    /** §6.4's upstream bug (not copied): coinciding integer timesteps (unipc, 100 steps, shift 12: 999, 999) are fine. */
    @Test
    void coincidingTimestepsAreCountedNotLookedUp() {
        FlowSchedule s = FlowSchedule.unipc(100, 12.0);
        assertEquals(999.0, s.timesteps()[0]);
        assertEquals(999.0, s.timesteps()[1]);
        int[] calls = {0};
        double[] out = FlowSampler.sample(SolverKind.UNIPC, s, dev.loraid.tensor.Tensor.ofDoubles(new double[] {0.3, -1.1}, 2),
                (x, i, t, sigma) -> {
                    assertEquals(calls[0]++, i);
                    return GaussianConvergenceTest.velocity(x, sigma).narrow(0, 0, 2).copy();
                }, FlowSampler.StepListener.NONE).toDoubleArray();
        assertEquals(100, calls[0]);
        for (double v : out) {
            assertEquals(true, Double.isFinite(v));
        }
    }
}
