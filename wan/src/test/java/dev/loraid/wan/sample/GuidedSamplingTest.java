package dev.loraid.wan.sample;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.testing.Golden;
import dev.loraid.wan.WanCheckpoint;
import dev.loraid.wan.WanInputs;
import dev.loraid.wan.WanModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tiny DiT driven by {@link GuidedVelocity} against sample_tiny (README tests 3 and 4, 1e-4 + 1e-4·|b|). */
class GuidedSamplingTest {

    /** README test 3: the DiT on each stored latents[i] gives the stored v_cond / v_uncond. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = SampleGoldenTest.CASES)
    void ditOnStoredLatentsGivesStoredVelocities(String prefix, String solver, int steps, double shift, double g)
            throws IOException {
        try (WanCheckpoint ck = WanCheckpoint.open(Golden.path("wan_tiny_weights.safetensors"));
             SafetensorsFile f = Golden.open("sample_tiny.safetensors")) {
            WanDenoiser d = WanDenoiser.textToVideo(ck.model(), f.tensor("context").copy(), f.tensor("context_null").copy(),
                    List.of());
            double[] t = f.tensor(prefix + ".timesteps").toDoubleArray();
            double max = 0;
            for (int i = 0; i < steps; i++) {
                Tensor x = f.tensor(prefix + ".latents").select(0, i).copy();
                max = Math.max(max, Golden.assertClose(prefix + ".v_cond[" + i + "]",
                        f.tensor(prefix + ".v_cond").select(0, i).copy(), d.predict(x, t[i], Denoiser.Branch.COND), 1e-4, 1e-4));
                max = Math.max(max, Golden.assertClose(prefix + ".v_uncond[" + i + "]",
                        f.tensor(prefix + ".v_uncond").select(0, i).copy(), d.predict(x, t[i], Denoiser.Branch.UNCOND), 1e-4, 1e-4));
            }
            System.out.printf("sample_tiny %s DiT per step: max |v error| %.3g%n", prefix, max);
        }
    }

    /** README test 4: the whole loop (DiT, CFG with both passes, solver) reproduces every latent and the result. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = SampleGoldenTest.CASES)
    void endToEndLoopReproducesTheTrajectory(String prefix, String solver, int steps, double shift, double g)
            throws IOException {
        try (WanCheckpoint ck = WanCheckpoint.open(Golden.path("wan_tiny_weights.safetensors"));
             SafetensorsFile f = Golden.open("sample_tiny.safetensors")) {
            Tensor latents = f.tensor(prefix + ".latents");
            int[] calls = {0};
            WanDenoiser wan = WanDenoiser.textToVideo(ck.model(), f.tensor("context").copy(),
                    f.tensor("context_null").copy(), List.of());
            Denoiser counted = (x, t, branch) -> {
                calls[0]++;
                return wan.predict(x, t, branch);
            };
            double[] max = {0};
            Velocity guided = new GuidedVelocity(null, new GuidedVelocity.Expert("dit", counted, g), null,
                    CfgSkipMode.NONE.applied(steps, null), SkipLayerGuidance.OFF, GuidedVelocity.SwitchListener.NONE);
            SolverKind kind = SolverKind.parse(solver);
            Tensor out = FlowSampler.sample(kind, kind.schedule(steps, shift), f.tensor("noise").copy(), (x, i, t, s) -> {
                max[0] = Math.max(max[0], Golden.assertClose(prefix + ".latents[" + i + "]", latents.select(0, i).copy(), x,
                        1e-4, 1e-4));
                return guided.at(x, i, t, s);
            }, FlowSampler.StepListener.NONE);
            double fin = Golden.assertClose(prefix + ".final", f.tensor(prefix + ".final").copy(), out, 1e-4, 1e-4);
            assertEquals(2 * steps, calls[0], "both branches on every step, also at g = 1 (§6.4)");
            System.out.printf("sample_tiny %s end to end: max |latent error| %.3g, final %.3g%n", prefix, max[0], fin);
        }
    }

    /** A skipped block leaves the residual stream as it was: its tap is absent and the output changes. */
    @Test
    void skippedBlocksAreNotRun() throws IOException {
        try (WanCheckpoint ck = WanCheckpoint.open(Golden.path("wan_tiny_weights.safetensors"));
             SafetensorsFile f = Golden.open("sample_tiny.safetensors")) {
            WanModel m = ck.model();
            WanInputs in = WanInputs.of(f.tensor("noise").copy(), Tensor.of(new float[] {500f}, 1), f.tensor("context").copy());
            Map<String, Tensor> taps = new java.util.HashMap<>();
            Tensor skipped = m.forward(in.withSkippedBlocks(Set.of(1, 2)), (name, t) -> taps.put(name, t.copy()));
            assertTrue(taps.containsKey("block0.out") && taps.containsKey("block3.out"));
            assertFalse(taps.containsKey("block1.out") || taps.containsKey("block2.out"), taps.keySet().toString());
            assertNotEquals(List.of(m.forward(in).toDoubleArray()), List.of(skipped.toDoubleArray()));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.forward(in.withSkippedBlocks(Set.of(4))));
            assertTrue(e.getMessage().contains("skipped block 4"), e.getMessage());
        }
    }
}
