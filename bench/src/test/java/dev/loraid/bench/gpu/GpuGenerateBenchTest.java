package dev.loraid.bench.gpu;

import dev.loraid.core.Reporter;
import dev.loraid.core.generate.GenerateRequest;
import dev.loraid.core.generate.Generator;
import dev.loraid.tensor.Backend;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.wan.WanKeys;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanWeights;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code gpu-generate}'s code path end to end on the CPU with {@code --preset tiny}: the request is the one
 * {@code generate} makes (the tiny task's latent shape, the bench's steps, bf16 activations), the timed sample is
 * {@link Generator#sample}'s (the same latent as sampling the same random model directly), and the command prints the
 * memory and ratio lines.
 */
class GpuGenerateBenchTest {
    private static final PrintStream SINK = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    @Test
    void theTimedSampleIsGeneratorsOnTheRequestGenerateMakes() {
        GpuGenerateBench.Options o = GpuGenerateBench.Options.parse(List.of("--preset", "tiny", "--device", "cpu", "--steps", "3"));
        GpuTrainStepBench.Shapes s = GpuTrainStepBench.Shapes.of(o.preset(), o.frames());
        Backend cpu = Backends.of(Device.CPU);
        GenerateRequest req = GpuGenerateBench.request(s, cpu, o, o.steps());
        assertArrayEquals(s.latents(), req.latentShape(), "the task's latent for the bench's shapes");
        assertEquals(3, req.steps());
        assertEquals(DType.BF16, req.activations(), "generate's default on a GPU");

        GpuGenerateBench.Ours ours = GpuGenerateBench.measureOurs(s, cpu, o, SINK);
        assertTrue(ours.secondsPerStep() > 0);
        assertEquals(-1, ours.peakBytes(), "no device memory figure on the CPU");
        WanModel model = WanModel.load(s.config(), new WanWeights(DeviceWeights.random(cpu, WanKeys.expectedShapes(s.config()),
            k -> true, DType.BF16, 42, false, false), "random tiny weights"));
        float[] direct = Generator.sample(model, req, Reporter.SILENT).latent().toFloatArray();
        assertArrayEquals(direct, ours.latent().toFloatArray(), "the bench's latent is the sample's");
        for (float v : direct) {
            assertTrue(Float.isFinite(v), "latent value " + v);
        }
        float[] f32 = Generator.sample(model, req.withActivations(DType.F32), Reporter.SILENT).latent().toFloatArray();
        assertFalse(Arrays.equals(direct, f32), "bf16 activations are not the fp32 ones");
    }

    @Test
    void theCommandPrintsMemoryThenTheRatioLast() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        assertEquals(0, GpuGenerateBench.run(new ArrayList<>(List.of("--preset", "tiny", "--device", "cpu", "--steps", "2")), out,
            SINK));
        String[] lines = bytes.toString(StandardCharsets.UTF_8).strip().split("\n");
        assertTrue(lines[lines.length - 3].startsWith("peak_memory: ours=n/a (cpu)"), String.join("\n", lines));
        assertTrue(lines[lines.length - 2].startsWith("ours_s_per_step="), String.join("\n", lines));
        assertEquals("ratio=n/a (PyTorch not run)", lines[lines.length - 1]);
        assertThrows(IllegalArgumentException.class, () -> GpuGenerateBench.Options.parse(List.of("--mixed_precision", "fp8")));
        assertThrows(IllegalArgumentException.class, () -> GpuGenerateBench.Options.parse(List.of("--steps", "0")));
        assertThrows(IllegalArgumentException.class, () -> GpuGenerateBench.run(List.of("--preset", "tiny-a14b", "--device", "cpu"),
            out, SINK), "one DiT only");
    }
}
