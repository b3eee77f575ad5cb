package dev.loraid.bench.train;

import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.Linear;
import dev.loraid.bench.BenchCommand;
import dev.loraid.bench.BenchContext;
import dev.loraid.bench.harness.BenchTensors;
import dev.loraid.bench.harness.Figures;
import dev.loraid.bench.harness.Series;
import dev.loraid.bench.harness.Stopwatch;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;

import java.util.List;

/**
 * {@code bench/run linear-train} (issue 4): forward and backward of a LoRA-wrapped Linear as inside a network,
 * 4096 tokens x 1536 → 1536, rank 32: a frozen base weight (BF16 for us, read in its dtype by the GEMM; fp32 for
 * PyTorch, whose bf16 aborts DJL), trainable fp32 lora_down/lora_up, and the input gradient required.
 * {@code y = x·Wᵀ + (x·Dᵀ)·Uᵀ·s}; the backward gives dx, dD and dU but never dW. PyTorch runs the same products
 * written out (what its autograd runs). FLOPs = 2·T·(2·I·O + 3·I·r + 3·r·O).
 */
public final class LinearTrainBench implements BenchCommand {
    private static final int TOKENS = 4096;
    private static final int DIM = 1536;
    private static final int RANK = 32;
    private static final double SCALE = 1.0;

    @Override
    public String name() {
        return "linear-train";
    }

    @Override
    public String summary() {
        return "LoRA Linear forward+backward, 4096 x 1536 -> 1536, rank 32, frozen bf16 base [--runs N] [--warmup N]";
    }

    @Override
    public void run(BenchContext ctx, List<String> args) {
        Series series = ctx.series(args, 5, 2);
        double flops = 2.0 * TOKENS * (2.0 * DIM * DIM + 3.0 * DIM * RANK + 3.0 * RANK * DIM);
        String label = "linear-train " + TOKENS + "x" + DIM + "->" + DIM + " rank " + RANK;

        Linear base = new Linear(Parameter.of(BenchTensors.random(1, DType.BF16, DIM, DIM), false), null);
        Parameter down = Parameter.trainable(scaled(BenchTensors.random(2, DType.F32, RANK, DIM), 1 / Math.sqrt(DIM)));
        Parameter up = Parameter.trainable(scaled(BenchTensors.random(3, DType.F32, DIM, RANK), 0.01));
        base.setAdapter((x, y) -> Ops.linearAddInPlace(y, Ops.linear(x, down, null), up, SCALE));
        Tensor input = BenchTensors.random(4, DType.F32, TOKENS, DIM);
        Tensor dOut = BenchTensors.random(5, DType.F32, TOKENS, DIM);

        Series.Paired p = series.againstTorch("loraid " + label + " bf16 base", () -> {
            try (MemoryScope step = MemoryScope.open()) {
                Var x = Var.leaf(input);
                base.forward(x).backward(dOut);
                x.grad().getDouble(0, 0);
            }
            down.zeroGrad();
            up.zeroGrad();
        }, "pytorch " + label + " f32", pt -> pt.linearTrain(TOKENS, DIM, DIM, RANK));
        double ours = p.ours().median();
        double torch = p.torch().map(Stopwatch.Timing::median).orElse(Double.NaN);

        ctx.out().printf("%s: loraid %s ms (%s GFLOP/s, bf16 base), pytorch %s ms (%s GFLOP/s, f32), ratio=%s%n", label,
            Figures.num(ours * 1e3, 1), Figures.num(Figures.gflops(flops, ours), 1), Figures.num(torch * 1e3, 1),
            Figures.num(Figures.gflops(flops, torch), 1), Figures.num(p.ratio(), 2));
    }

    private static Tensor scaled(Tensor t, double s) {
        t.backend().binaryScalar(BinaryOp.MUL, t, s, t);
        return t;
    }
}
