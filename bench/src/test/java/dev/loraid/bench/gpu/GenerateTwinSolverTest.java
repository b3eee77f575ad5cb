package dev.loraid.bench.gpu;

import dev.loraid.tensor.Tensor;
import dev.loraid.wan.sample.FlowSampler;
import dev.loraid.wan.sample.FlowSchedule;
import dev.loraid.wan.sample.SolverKind;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The PyTorch twin of {@code gpu-generate} (bench/gpu/wan_generate_torch.py) steps with our UniPC: its solver loop,
 * fed a closed-form velocity field (v = 0.3·x + 0.01·t) with numpy arrays, ends where {@link FlowSampler} with
 * {@link SolverKind#UNIPC} ends on the same σ table. Needs python3 with numpy (skipped without).
 */
class GenerateTwinSolverTest {
    private static final Path SCRIPT = Path.of("gpu/wan_generate_torch.py");

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 8})
    void theTwinsUnipcEndsWhereOursDoes(int steps) throws Exception {
        Assumptions.assumeTrue(Files.isRegularFile(SCRIPT), "run from the bench module");
        FlowSchedule s = SolverKind.UNIPC.schedule(steps, 5.0);
        float[] start = new float[6];
        for (int i = 0; i < start.length; i++) {
            start[i] = (float) Math.sin(i + 1.0);
        }
        float[] ours = FlowSampler.sample(SolverKind.UNIPC, s, Tensor.of(start, 6), (x, step, t, sigma) -> {
            float[] v = x.toFloatArray();
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (0.3 * v[i] + 0.01 * t);
            }
            return Tensor.of(v, 6);
        }, (done, total) -> { }).toFloatArray();

        String program = String.join("\n",
            "import sys, numpy as np",
            "sys.path.insert(0, 'gpu')",
            "import wan_generate_torch as g",
            "x = np.array([np.sin(i + 1.0) for i in range(6)], dtype=np.float32).astype(np.float64)",
            "out = g.unipc_sample(x, lambda x, t: 0.3 * x + 0.01 * t, [" + list(s.sigmas()) + "], [" + list(s.timesteps()) + "])",
            "print(','.join(repr(float(v)) for v in out))");
        Process p;
        try {
            p = new ProcessBuilder("python3", "-c", program).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            Assumptions.abort("no python3: " + e.getMessage());
            return;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        p.getInputStream().transferTo(bytes);
        p.waitFor(60, TimeUnit.SECONDS);
        String text = bytes.toString(StandardCharsets.UTF_8).strip();
        Assumptions.assumeFalse(text.contains("No module named 'numpy'"), "python3 without numpy");
        assertEquals(0, p.exitValue(), text);
        double[] twin = Arrays.stream(text.split(",")).mapToDouble(Double::parseDouble).toArray();
        assertEquals(ours.length, twin.length);
        for (int i = 0; i < ours.length; i++) {
            assertEquals(ours[i], twin[i], 1e-5 * (1 + Math.abs(ours[i])), "latent[" + i + "] after " + steps + " steps");
        }
    }

    private static String list(double[] v) {
        return Arrays.stream(v).mapToObj(Double::toString).collect(Collectors.joining(", "));
    }
}
