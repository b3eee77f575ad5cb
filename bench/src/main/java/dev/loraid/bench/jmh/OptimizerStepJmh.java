package dev.loraid.bench.jmh;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.optim.Optimizer;
import dev.loraid.bench.harness.BenchTensors;
import dev.loraid.core.train.OptimizerConfig;
import dev.loraid.core.train.Optimizers;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One optimizer step over the LoRA of one Wan 2.1 1.3B block at rank 32 ({@code bench/run jmh OptimizerStepJmh}): the
 * down and up matrices of its eight attention Linears (1536 → 1536) and two FFN Linears (1536 → 8960 → 1536), 1.46 M
 * parameters, made by {@link Optimizers#of} and stepped as the trainer does: {@code AdamW} (fp32 moments),
 * {@code AdamW8bit} (bitsandbytes' 8-bit moments), {@code Adafactor} (transformers', its defaults: factored second
 * moments, relative steps), {@code prodigyopt.Prodigy}, {@code schedulefree.AdamWScheduleFree} (in train mode) or
 * {@code lion_pytorch.Lion}. The
 * gradients stay fixed; the parameters move every call.
 */
public class OptimizerStepJmh extends CpuJmhSettings {
    private static final int RANK = 32;
    private static final int DIM = 1536;
    private static final int FFN = 8960;

    @Param({"AdamW", "AdamW8bit", "Adafactor", "prodigyopt.Prodigy", "schedulefree.AdamWScheduleFree", "lion_pytorch.Lion"})
    public String optimizer;

    private Optimizer opt;

    @Setup
    public void setup() {
        Map<String, Parameter> params = new LinkedHashMap<>();
        long seed = 1;
        for (int i = 0; i < 10; i++) {
            int in = i == 9 ? FFN : DIM;
            int out = i == 8 ? FFN : DIM;
            params.put("l" + i + ".lora_down.weight", withGrad(seed++, RANK, in));
            params.put("l" + i + ".lora_up.weight", withGrad(seed++, out, RANK));
        }
        opt = Optimizers.of(params, new OptimizerConfig(optimizer, List.of(), 1e-4, "constant", "0", "0", 1, 1.0, null, null,
                null, 1.0), null);
        opt.train();
    }

    /** A trainable parameter whose gradient is a fixed random tensor (the gradient of Σ p·g). */
    private static Parameter withGrad(long seed, int rows, int cols) {
        Parameter p = Parameter.trainable(BenchTensors.random(seed, DType.F32, rows, cols));
        Tensor g = BenchTensors.random(seed + 1000, DType.F32, rows, cols);
        p.mul(Var.constant(g)).sum().backward();
        return p;
    }

    @Benchmark
    public Optimizer step() {
        opt.step();
        return opt;
    }
}
