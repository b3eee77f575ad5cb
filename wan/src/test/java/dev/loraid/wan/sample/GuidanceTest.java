package dev.loraid.wan.sample;

import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CFG, cfg skip, SLG and A14B routing arithmetic with fake denoisers (training.md §6.4, §6.5). */
class GuidanceTest {
    private static final Tensor VC = Tensor.of(new float[] {1f, 2f}, 2);
    private static final Tensor VU = Tensor.of(new float[] {3f, -1f}, 2);
    private static final Tensor VS = Tensor.of(new float[] {0.5f, 4f}, 2);

    /** Returns v_c, v_u or v_skip by branch and logs "name:branch@t". */
    private static Denoiser fake(String name, List<String> log) {
        return (x, t, b) -> {
            log.add(name + ":" + b + "@" + (int) t);
            return switch (b) {
                case COND -> VC;
                case UNCOND -> VU;
                case UNCOND_SKIPPED -> VS;
            };
        };
    }

    private static GuidedVelocity single(double g, boolean[] apply, SkipLayerGuidance slg, List<String> log) {
        return new GuidedVelocity(null, new GuidedVelocity.Expert("dit", fake("dit", log), g), null, apply, slg,
                GuidedVelocity.SwitchListener.NONE);
    }

    private static float[] at(GuidedVelocity v, int step) {
        return v.at(VC, step, 500, 0.5).toFloatArray();
    }

    @Test
    void cfgIsUncondPlusScaleTimesDifferenceAndRunsBothPassesAtScaleOne() {
        List<String> log = new ArrayList<>();
        assertArrayEquals(new float[] {3 + 4 * (1 - 3), -1 + 4 * (2 + 1)},
                at(single(4.0, new boolean[] {true}, SkipLayerGuidance.OFF, log), 0), 1e-6f);
        log.clear();
        assertArrayEquals(VC.toFloatArray(), at(single(1.0, new boolean[] {true}, SkipLayerGuidance.OFF, log), 0), 1e-6f);
        assertEquals(List.of("dit:COND@500", "dit:UNCOND@500"), log, "g = 1 still evaluates both branches");
    }

    @Test
    void skippedCfgStepsUseTheConditionalPassAlone() {
        List<String> log = new ArrayList<>();
        assertArrayEquals(VC.toFloatArray(), at(single(4.0, new boolean[] {false}, SkipLayerGuidance.OFF, log), 0));
        assertEquals(List.of("dit:COND@500"), log);
    }

    @Test
    void cfgSkipPatternsFollowUpstream() {
        assertEquals("AAAAAAAAAA", pattern(CfgSkipMode.NONE, 10, 0.3));
        assertEquals("AAAAAAAAAA", pattern(CfgSkipMode.EARLY, 10, null), "no ratio: every step");
        assertEquals("SSSSSSSAAA", pattern(CfgSkipMode.EARLY, 10, 0.3));
        assertEquals("AAASSSSSSS", pattern(CfgSkipMode.LATE, 10, 0.3));
        assertEquals("SSSAAASSSS", pattern(CfgSkipMode.EARLY_LATE, 10, 0.3));   // start (10−3)/2 = 3
        assertEquals("ASSSSSSSAA", pattern(CfgSkipMode.MIDDLE, 10, 0.3));       // skip 7 from (10−7)/2 = 1
        assertEquals("SSSASSASSS", pattern(CfgSkipMode.ALTERNATE, 10, 0.3));    // as Python: the sum at step 9 is 0.99999…
        assertEquals("SASASASASA", pattern(CfgSkipMode.ALTERNATE, 10, 0.5));
        assertEquals("SSSSSSSSSS", pattern(CfgSkipMode.LATE, 10, 0.05));        // int(0.5) = 0 steps applied
        assertThrows(IllegalArgumentException.class, () -> CfgSkipMode.parse("sometimes"));
    }

    private static String pattern(CfgSkipMode mode, int n, Double ratio) {
        StringBuilder sb = new StringBuilder();
        for (boolean b : mode.applied(n, ratio)) {
            sb.append(b ? 'A' : 'S');
        }
        return sb.toString();
    }

    @Test
    void slgOriginalAddsScaleTimesCondMinusSkippedInsideItsWindow() {
        List<String> log = new ArrayList<>();
        SkipLayerGuidance slg = new SkipLayerGuidance(List.of(1, 2), 3.0, 0.0, 0.3, SkipLayerGuidance.Mode.ORIGINAL);
        boolean[] all = CfgSkipMode.NONE.applied(10, null);
        GuidedVelocity v = single(4.0, all, slg, log);
        float[] cfg = {3 + 4 * (1 - 3), -1 + 4 * (2 + 1)};
        // steps 0..2 are inside int(0.0·10) ≤ i < int(0.3·10)
        assertArrayEquals(new float[] {cfg[0] + 3 * (1 - 0.5f), cfg[1] + 3 * (2 - 4)}, at(v, 2), 1e-6f);
        assertEquals(List.of("dit:COND@500", "dit:UNCOND@500", "dit:UNCOND_SKIPPED@500"), log);
        log.clear();
        assertArrayEquals(cfg, at(v, 3), 1e-6f);
        assertEquals(List.of("dit:COND@500", "dit:UNCOND@500"), log);
    }

    @Test
    void slgUncondReplacesTheUnconditionalPass() {
        List<String> log = new ArrayList<>();
        SkipLayerGuidance slg = new SkipLayerGuidance(List.of(3), 3.0, 0.2, 0.5, SkipLayerGuidance.Mode.UNCOND);
        GuidedVelocity v = single(4.0, CfgSkipMode.NONE.applied(10, null), slg, log);
        assertArrayEquals(new float[] {0.5f + 4 * (1 - 0.5f), 4 + 4 * (2 - 4)}, at(v, 2), 1e-6f);
        assertEquals(List.of("dit:COND@500", "dit:UNCOND_SKIPPED@500"), log);
        log.clear();
        assertArrayEquals(new float[] {3 + 4 * (1 - 3), -1 + 4 * (2 + 1)}, at(v, 1), 1e-6f, "before slg_start");
        assertEquals(List.of("dit:COND@500", "dit:UNCOND@500"), log);
    }

    @Test
    void slgIsSkippedWhereCfgIsSkipped() {
        List<String> log = new ArrayList<>();
        SkipLayerGuidance slg = new SkipLayerGuidance(List.of(1), 3.0, 0.0, 1.0, SkipLayerGuidance.Mode.ORIGINAL);
        assertArrayEquals(VC.toFloatArray(), at(single(4.0, new boolean[] {false}, slg, log), 0));
        assertEquals(List.of("dit:COND@500"), log);
    }

    /**
     * §6.5 on the t2v-A14B defaults (unipc, 40 steps, shift 12, boundary 0.875, guidance high 4 / low 3): the high-noise
     * expert runs while t/1000 ≥ 0.875 and the switch happens once, at the first step below.
     */
    @Test
    void a14bSwitchesOnceAtTheFirstStepBelowTheBoundary() {
        FlowSchedule s = FlowSchedule.unipc(40, 12.0);
        int first = 0;
        while (s.timesteps()[first] / 1000.0 >= 0.875) {
            first++;
        }
        assertTrue(first > 0 && first < 40);
        List<String> log = new ArrayList<>();
        List<Integer> switches = new ArrayList<>();
        GuidedVelocity v = new GuidedVelocity(new GuidedVelocity.Expert("high", fake("high", log), 4.0),
                new GuidedVelocity.Expert("low", fake("low", log), 3.0), 0.875, CfgSkipMode.NONE.applied(40, null),
                SkipLayerGuidance.OFF, (step, t) -> switches.add(step));
        for (int i = 0; i < 40; i++) {
            log.clear();
            float[] got = v.at(VC, i, s.timesteps()[i], s.sigmas()[i]).toFloatArray();
            String who = i < first ? "high" : "low";
            double g = i < first ? 4.0 : 3.0;
            assertEquals(List.of(who + ":COND@" + (int) s.timesteps()[i], who + ":UNCOND@" + (int) s.timesteps()[i]), log,
                    "step " + i);
            assertArrayEquals(new float[] {(float) (3 + g * (1 - 3)), (float) (-1 + g * 3)}, got, 1e-6f);
        }
        assertEquals(List.of(first), switches);
        // the t the DiT gets is the truncated integer: 875 itself stays on the high-noise expert
        GuidedVelocity edge = new GuidedVelocity(new GuidedVelocity.Expert("high", fake("high", log), 4.0),
                new GuidedVelocity.Expert("low", fake("low", log), 3.0), 0.875, new boolean[] {true, true},
                SkipLayerGuidance.OFF, GuidedVelocity.SwitchListener.NONE);
        assertEquals("high", edge.expertAt(0, 875).name());
        assertEquals("low", edge.expertAt(1, 874).name());
        assertEquals("low", edge.expertAt(2, 900).name(), "never switches back");
    }
}
