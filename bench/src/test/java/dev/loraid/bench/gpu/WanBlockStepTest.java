package dev.loraid.bench.gpu;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The benchmark's hand-written block backward is a real backward: checked in F64 on the CPU against central finite
 * differences of {@code loss = Σ block(x)·g}, for the input gradient and LoRA gradients of several layers.
 */
class WanBlockStepTest {
    private static final WanBlockConfig SMALL = new WanBlockConfig(16, 2, 24, 7, 5, 2, 2);
    private final Backend cpu = Backends.cpu();

    private double loss(WanBlockStep block, Tensor x, Tensor ctx, Tensor g) {
        double[] y = block.forward(x, ctx).toDoubleArray();
        double[] gv = g.toDoubleArray();
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += y[i] * gv[i];
        }
        return s;
    }

    private static double fd(java.util.function.DoubleSupplier f, Tensor t, long[] idx, double h) {
        double old = t.getDouble(idx);
        t.setDouble(old + h, idx);
        double up = f.getAsDouble();
        t.setDouble(old - h, idx);
        double down = f.getAsDouble();
        t.setDouble(old, idx);
        return (up - down) / (2 * h);
    }

    private static void close(String what, double expected, double actual) {
        assertTrue(Math.abs(expected - actual) <= 1e-5 * (1 + Math.abs(expected)),
            what + ": backward gives " + actual + ", finite differences " + expected);
    }

    @Test
    void backwardMatchesFiniteDifferences() {
        WanBlockStep block = new WanBlockStep(SMALL, cpu, DType.F64);
        Random rnd = new Random(5);
        Tensor x = Tensor.empty(DType.F64, SMALL.tokens(), SMALL.dim());
        Tensor ctx = Tensor.empty(DType.F64, SMALL.textTokens(), SMALL.dim());
        Tensor g = Tensor.empty(DType.F64, SMALL.tokens(), SMALL.dim());
        cpu.randomNormal(x, 1, 0);
        cpu.randomNormal(ctx, 2, 0);
        cpu.randomNormal(g, 3, 0);
        block.forward(x, ctx);
        Tensor dx = block.backward(g, ctx);
        LoraLinear[] layers = block.layers();
        Tensor[] gradA = new Tensor[layers.length];
        Tensor[] gradB = new Tensor[layers.length];
        for (int i = 0; i < layers.length; i++) {
            gradA[i] = layers[i].gradA.copy();
            gradB[i] = layers[i].gradB.copy();
        }
        java.util.function.DoubleSupplier f = () -> loss(block, x, ctx, g);
        for (int n = 0; n < 6; n++) {
            long[] idx = {rnd.nextInt(SMALL.tokens()), rnd.nextInt(SMALL.dim())};
            close("dx" + java.util.Arrays.toString(idx), fd(f, x, idx, 1e-5), dx.getDouble(idx));
        }
        String[] names = {"q", "k", "v", "o", "cross q", "cross k", "cross v", "cross o", "ffn.0", "ffn.2"};
        for (int i = 0; i < layers.length; i++) {
            LoraLinear l = layers[i];
            long[] ia = {rnd.nextInt((int) l.loraA.size(0)), rnd.nextInt((int) l.loraA.size(1))};
            long[] ib = {rnd.nextInt((int) l.loraB.size(0)), rnd.nextInt((int) l.loraB.size(1))};
            close(names[i] + " lora A" + java.util.Arrays.toString(ia), fd(f, l.loraA, ia, 1e-5), gradA[i].getDouble(ia));
            close(names[i] + " lora B" + java.util.Arrays.toString(ib), fd(f, l.loraB, ib, 1e-5), gradB[i].getDouble(ib));
        }
    }

    @Test
    void tinyBenchmarkRunsOnTheCpu() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        int rc = WanBlockGpuBench.run(new java.util.ArrayList<>(List.of("--device", "cpu", "--tiny", "--iters", "1",
            "--warmup", "0")), new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(log, true, StandardCharsets.UTF_8));
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, text + log);
        String[] lines = text.strip().split("\n");
        assertTrue(lines[lines.length - 1].startsWith("ratio="), text);
        assertTrue(text.contains("ours_ms="), text);
        assertTrue(text.contains("device=" + Device.CPU), text);
    }
}
