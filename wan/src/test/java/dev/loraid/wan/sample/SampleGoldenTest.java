package dev.loraid.wan.sample;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.testing.Golden;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * testdata/golden/sample_tiny.safetensors (README "Sampling"): per solver the schedule, and the solver alone replaying
 * the stored velocities ("replay"), against the float64 oracle. The DiT-driven loop is in {@code GuidedSamplingTest}.
 */
class SampleGoldenTest {
    static final String CASES = """
            unipc,    unipc,   8, 5.0, 4.0
            dpmpp,    dpm++,   8, 5.0, 4.0
            vanilla,  vanilla, 8, 5.0, 4.0
            unipc_g1, unipc,   8, 5.0, 1.0
            unipc20,  unipc,  20, 3.0, 4.0
            """;

    /** README test 1: timesteps exact, σ tables exact float32. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = CASES)
    void scheduleMatchesTheOracleExactly(String prefix, String solver, int steps, double shift, double g) throws IOException {
        try (SafetensorsFile f = Golden.open("sample_tiny.safetensors")) {
            FlowSchedule s = SolverKind.parse(solver).schedule(steps, shift);
            double[] t = f.tensor(prefix + ".timesteps").toDoubleArray();
            double[] sigma = f.tensor(prefix + ".sigmas").toDoubleArray();
            assertEquals(steps, s.steps());
            for (int i = 0; i < steps; i++) {
                assertEquals(t[i], s.timesteps()[i], 0, prefix + ".timesteps[" + i + "]");
            }
            for (int i = 0; i <= steps; i++) {
                assertEquals(sigma[i], s.sigmas()[i], 0, prefix + ".sigmas[" + i + "]");
            }
        }
    }

    /** README test 2: the solver fed the stored velocities reproduces every latent and the result (1e-5 + 1e-5·|b|). */
    @ParameterizedTest(name = "{0}")
    @CsvSource(textBlock = CASES)
    void replayOfStoredVelocitiesReproducesEveryLatent(String prefix, String solver, int steps, double shift, double g)
            throws IOException {
        try (SafetensorsFile f = Golden.open("sample_tiny.safetensors")) {
            Tensor latents = f.tensor(prefix + ".latents");
            Tensor vc = f.tensor(prefix + ".v_cond");
            Tensor vu = f.tensor(prefix + ".v_uncond");
            double[] maxErr = {0};
            SolverKind kind = SolverKind.parse(solver);
            Tensor out = FlowSampler.sample(kind, kind.schedule(steps, shift), f.tensor("noise").copy(),
                    (x, i, t, sigma) -> {
                        maxErr[0] = Math.max(maxErr[0], Golden.assertClose(prefix + ".latents[" + i + "]",
                                latents.select(0, i).copy(), x, 1e-5, 1e-5));
                        Tensor u = vu.select(0, i).copy();
                        return Latents.combine(1 - g, u, g, vc.select(0, i).copy());
                    }, FlowSampler.StepListener.NONE);
            double finalErr = Golden.assertClose(prefix + ".final", f.tensor(prefix + ".final").copy(), out, 1e-5, 1e-5);
            System.out.printf("sample_tiny %s replay: max |latent error| %.3g, final %.3g%n", prefix, maxErr[0], finalErr);
        }
    }
}
