package dev.loraid.bench.gpu;

import dev.loraid.tensor.Backends;
import dev.loraid.tensor.Device;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code gpu-wan-block}'s code path end to end on the CPU at tiny shapes: the real block with the trainer's adapters
 * runs forward and backward, its LoRA gradients are non-zero, and recomputing the block (checkpointing) gives
 * the same gradients; the command prints its figures and {@code ratio=n/a} without PyTorch.
 */
class WanBlockGpuBenchTest {
    private static WanBlockGpuBench.Ours ours(boolean checkpointing) {
        List<String> args = new ArrayList<>(List.of("--tiny", "--device", "cpu", "--iters", "1", "--warmup", "1"));
        if (checkpointing) {
            args.add("--checkpointing");
        }
        WanBlockGpuBench.Options o = WanBlockGpuBench.Options.parse(args);
        PrintStream sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        return WanBlockGpuBench.measureOurs(WanBlockConfig.tiny(), Backends.of(Device.CPU), o, sink, sink);
    }

    @Test
    void theRealBlockTrainsItsLoraAndCheckpointingGivesTheSameGradients() {
        double plain = ours(false).loraGradNorm();
        double recomputed = ours(true).loraGradNorm();
        assertTrue(plain > 1e-6 && Double.isFinite(plain), "LoRA gradient norm " + plain);
        assertEquals(plain, recomputed, 1e-9 * plain, "checkpointed vs plain LoRA gradient norm");
    }

    @Test
    void theCommandRunsOnTheCpuWithoutTorch() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        PrintStream log = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertEquals(0, WanBlockGpuBench.run(new ArrayList<>(List.of("--tiny", "--device", "cpu", "--iters", "1", "--warmup", "0")),
            out, log));
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("weights=bf16 activations=bf16") && text.contains("ours: ")
            && text.strip().endsWith("ratio=n/a (PyTorch not run)"), text);
    }
}
