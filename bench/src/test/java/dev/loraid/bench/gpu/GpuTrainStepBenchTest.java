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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code gpu-train-step}'s code path end to end on the CPU with {@code --preset tiny}: two training steps through
 * TrainStep; with {@code --blocks_to_swap 3} the losses are the same to the bit and each step moves 2 × 3 blocks;
 * {@code --fp8_base} changes the weights (another loss); {@code --optimizer_type AdamW8bit} keeps the tiny LoRA's small
 * matrices in fp32 (the same loss), and so does {@code --gradient_checkpointing_cpu_offload}; the command prints the
 * memory and ratio lines.
 */
class GpuTrainStepBenchTest {
    private static GpuTrainStepBench.Ours ours(String... extra) {
        List<String> args = new ArrayList<>(List.of("--preset", "tiny", "--device", "cpu", "--iters", "2", "--warmup", "0"));
        args.addAll(List.of(extra));
        GpuTrainStepBench.Options o = GpuTrainStepBench.Options.parse(args);
        PrintStream sink = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        return GpuTrainStepBench.measureOurs(GpuTrainStepBench.Shapes.of(o.preset(), o.frames()), Backends.of(Device.CPU), o,
            sink, sink);
    }

    @Test
    void blockSwapGivesTheSameStepsAndFp8AnotherOne() {
        GpuTrainStepBench.Ours plain = ours();
        assertTrue(Double.isFinite(plain.loss()) && plain.loss() > 0, "loss " + plain.loss());
        assertEquals(0, plain.transfersPerStep());
        assertEquals(-1, plain.peakBytes(), "no device memory figure on the CPU");
        GpuTrainStepBench.Ours swapped = ours("--blocks_to_swap", "3");
        assertEquals(plain.loss(), swapped.loss(), 0.0, "loss of the second step with 3 of 4 blocks swapped");
        assertEquals(6, swapped.transfersPerStep(), "3 blocks in after the forward, 3 back after the backward");
        GpuTrainStepBench.Ours fp8 = ours("--fp8_base");
        assertTrue(Double.isFinite(fp8.loss()), "fp8 loss " + fp8.loss());
        assertNotEquals(plain.loss(), fp8.loss(), "fp8 weights are not the bf16 ones");
        GpuTrainStepBench.Ours eightBit = ours("--optimizer_type", "AdamW8bit");
        assertEquals(plain.loss(), eightBit.loss(), 0.0,
            "the tiny LoRA's matrices are under 4,096 elements: fp32 moments and AdamW's step, as bitsandbytes");
        // a LoHa starts from a zero update as the LoRA does, so the first step's loss is the same; the second differs
        GpuTrainStepBench.Ours loha = ours("--network_module", "networks.loha");
        assertEquals(plain.losses()[0], loha.losses()[0], 0.0, "both networks start at ΔW = 0");
        assertNotEquals(plain.losses()[1], loha.losses()[1], "after one update the networks differ");
        assertTrue(GpuTrainStepBench.Options.parse(List.of("--network_module", "networks.lokr")).noTorch(),
            "the twin trains a LoRA: not run for LoKr");
        GpuTrainStepBench.Ours offloaded = ours("--gradient_checkpointing_cpu_offload");
        assertEquals(plain.loss(), offloaded.loss(), 0.0, "the block checkpoints through host memory: the same steps");
        assertTrue(GpuTrainStepBench.Options.parse(List.of("--gradient_checkpointing_cpu_offload")).noTorch(),
            "the twin keeps its checkpoints on the device: ours only");
    }

    /**
     * {@code --preset tiny-a14b}: two experts, one LoRA, the experts alternating (high-noise first) through the
     * trainer's routing; with {@code --offload_inactive_dit} each step times the switch. Block swap with two experts is
     * refused, as in {@code train}.
     */
    @Test
    void twoExpertsAlternateAndTheSwitchIsTimed() {
        GpuTrainStepBench.Ours dual = ours("--preset", "tiny-a14b", "--offload_inactive_dit", "--iters", "3");
        assertEquals(3, dual.losses().length);
        for (double l : dual.losses()) {
            assertTrue(Double.isFinite(l) && l > 0, "loss " + l);
        }
        assertNotEquals(dual.losses()[0], dual.losses()[1], "the high- and low-noise steps are other models and noise");
        assertTrue(Double.isFinite(dual.medianSwitchMs()) && dual.medianSwitchMs() >= 0, "switch " + dual.medianSwitchMs());
        assertTrue(Double.isNaN(ours().medianSwitchMs()), "one expert: no switch");
        assertThrows(IllegalArgumentException.class, () -> ours("--preset", "tiny-a14b", "--blocks_to_swap", "2"));
    }

    @Test
    void theCommandPrintsMemoryThenTheRatioLast() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        PrintStream log = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertEquals(0, GpuTrainStepBench.run(new ArrayList<>(List.of("--preset", "tiny", "--device", "cpu", "--iters", "1",
            "--warmup", "0")), out, log));
        String[] lines = bytes.toString(StandardCharsets.UTF_8).strip().split("\n");
        assertTrue(lines[lines.length - 3].startsWith("peak_memory: ours=n/a (cpu)"), String.join("\n", lines));
        assertEquals("ratio=n/a (PyTorch not run)", lines[lines.length - 1]);
        assertThrows(IllegalArgumentException.class, () -> GpuTrainStepBench.Options.parse(List.of("--blocks_to_swap", "-1")));
        assertThrows(IllegalArgumentException.class, () -> GpuTrainStepBench.Shapes.of("14b", 80));
    }
}
