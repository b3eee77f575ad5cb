package dev.loraid.bench.wanblock;

import dev.loraid.autograd.StateSource;
import dev.loraid.autograd.Var;
import dev.loraid.bench.BenchCommand;
import dev.loraid.bench.BenchContext;
import dev.loraid.bench.harness.BenchTensors;
import dev.loraid.bench.harness.Figures;
import dev.loraid.bench.harness.Series;
import dev.loraid.bench.harness.TorchCpu;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.RopeTables;
import dev.loraid.wan.WanBlock;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanTaps;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bench/run wan-block}: one Wan 2.1 1.3B block (dim 1536, 12 heads, ffn 8960, 512 context rows) forward and
 * backward to its input — what LoRA training does with a frozen base — at 1560 tokens: the token grid (2, 30, 26),
 * i.e. 2 latent frames of a 480×416 video (5 frames). Frozen F32 weights on both sides (PyTorch's bf16 aborts DJL).
 * PyTorch runs the same block composed from NDArray ops with its autograd; its output and input gradient are
 * compared with ours first (an independent check of our forward and backward). Nominal FLOPs (matrix products
 * only; C = 512 context rows): forward 12·L·D² + 4·C·D² + 4·L·D·F + 4·L²·D + 4·L·C·D; backward to the input (frozen
 * weights and context need no gradient) 12·L·D² + 4·L·D·F + 10·L²·D (attention recomputes the scores) + 6·L·C·D.
 */
public final class WanBlockBench implements BenchCommand {
    private static final int[] GRID = {2, 30, 26};

    @Override
    public String name() {
        return "wan-block";
    }

    @Override
    public String summary() {
        return "Wan 1.3B block forward+backward, 1560 tokens, vs the same block in PyTorch [--runs N] [--warmup N]";
    }

    @Override
    public void run(BenchContext ctx, List<String> args) {
        Series series = ctx.series(args, 5, 1); // alternating pairs, the median of 5
        WanConfig c = WanPresets.get("t2v-1.3B").config();
        WanBlockCase data = WanBlockCase.random(c, GRID, 1234);
        double flops = flops(c, data.tokens());
        String label = String.format(Locale.ROOT, "wan-block 1.3B fwd+bwd L=%d (grid %dx%dx%d) f32", data.tokens(),
                GRID[0], GRID[1], GRID[2]);
        Ours ours = new Ours(data);
        Tensor[] mine = ours.forwardBackward();
        ctx.torch().ifPresent(t -> {
            try (TorchCpu.BlockRun run = t.wanBlock(data)) {
                float[][] theirs = run.outputs();
                ctx.log().printf(Locale.ROOT, "cross-check vs PyTorch: output max |diff| %.2e (max |out| %.2e), "
                                + "input gradient max |diff| %.2e (max |grad| %.2e)%n",
                        BenchTensors.maxAbsDiff(mine[0].toFloatArray(), theirs[0]), BenchTensors.maxAbs(theirs[0]),
                        BenchTensors.maxAbsDiff(mine[1].toFloatArray(), theirs[1]), BenchTensors.maxAbs(theirs[1]));
            }
        });
        Series.Paired p = series.againstTorch("loraid " + label, ours::forwardBackward, "pytorch " + label,
            t -> t.wanBlock(data));
        double torch = p.torch().map(t -> Figures.gflops(flops, t.median())).orElse(Double.NaN);
        ctx.out().println(Figures.line(label, Figures.gflops(flops, p.ours().median()), torch, p.ratio(), ctx.fmaPeak()));
    }

    /** Our WanBlock, loaded with the case's weights (adopted, no copy). */
    private static final class Ours {
        private final WanBlock block;
        private final Tensor x;
        private final Var e0;
        private final Var context;
        private final RopeTables rope;
        private final Tensor seed;

        Ours(WanBlockCase d) {
            WanConfig c = d.config();
            block = new WanBlock(c, 0);
            Map<String, Tensor> w = new LinkedHashMap<>();
            d.weights().keySet().forEach(k -> w.put(k, d.tensor(k)));
            block.loadStateDict(StateSource.of(w), true);
            x = Tensor.of(d.x(), d.tokens(), c.dim());
            e0 = Var.constant(Tensor.of(d.e0(), 1, 6, c.dim()));
            context = Var.constant(Tensor.of(d.context(), c.textLen(), c.dim()));
            rope = RopeTables.of(c.headDim(), d.grid()[0], d.grid()[1], d.grid()[2]);
            seed = Tensor.full(DType.F32, 1.0, d.tokens(), c.dim());
        }

        /** {output, d(Σ output)/d x}, copied out of the step's memory scope. */
        Tensor[] forwardBackward() {
            try (MemoryScope step = MemoryScope.open()) {
                Var in = Var.leaf(x);
                Var out = block.forward(in, e0, context, rope, WanTaps.NONE);
                out.backward(seed);
                try (MemoryScope keep = MemoryScope.suspend()) {
                    return new Tensor[] {out.data().copy(), in.grad().copy()};
                }
            }
        }
    }

    static double flops(WanConfig c, long tokens) {
        double d = c.dim();
        double text = c.textLen();
        double l = tokens;
        double f = c.ffnDim();
        double forward = 12 * l * d * d + 4 * text * d * d + 4 * l * d * f + 4 * l * l * d + 4 * l * text * d;
        double backward = 12 * l * d * d + 4 * l * d * f + 10 * l * l * d + 6 * l * text * d;
        return forward + backward;
    }
}
