package dev.loraid.bench.attention;

import dev.loraid.bench.BenchCommand;
import dev.loraid.bench.BenchContext;
import dev.loraid.bench.harness.BenchTensors;
import dev.loraid.bench.harness.Figures;
import dev.loraid.bench.harness.Series;
import dev.loraid.bench.harness.Stopwatch;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;

import java.util.List;

/**
 * {@code bench/run attention}: scaled-dot-product attention at 4096 tokens x 12 heads x 128 head dim, fp32.
 * Ours is {@code Backend.attention} on [B, H, L, D] views of [B, L, H, D] memory (the model's layout); PyTorch's
 * is the matmul-softmax-matmul composition with a [12, 4096, 4096] score tensor (DJL has no fused SDPA).
 * FLOPs = 4·L²·D·H (the two matrix products).
 */
public final class AttentionBench implements BenchCommand {
    private static final int TOKENS = 4096;
    private static final int HEADS = 12;
    private static final int HEAD_DIM = 128;

    @Override
    public String name() {
        return "attention";
    }

    @Override
    public String summary() {
        return "attention 4096 tokens x 12 heads x 128 vs PyTorch's matmul-softmax-matmul [--runs N] [--warmup N]";
    }

    @Override
    public void run(BenchContext ctx, List<String> args) {
        Series series = ctx.series(args, 3, 1);
        double peak = ctx.fmaPeak();
        double flops = 4.0 * TOKENS * TOKENS * HEAD_DIM * HEADS;
        String label = "attention " + TOKENS + "x" + HEADS + "x" + HEAD_DIM + " f32";

        double ours = Double.NaN;
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor q = BenchTensors.random(1, DType.F32, 1, TOKENS, HEADS, HEAD_DIM).permute(0, 2, 1, 3);
            Tensor k = BenchTensors.random(2, DType.F32, 1, TOKENS, HEADS, HEAD_DIM).permute(0, 2, 1, 3);
            Tensor v = BenchTensors.random(3, DType.F32, 1, TOKENS, HEADS, HEAD_DIM).permute(0, 2, 1, 3);
            Tensor out = Tensor.empty(DType.F32, 1, TOKENS, HEADS, HEAD_DIM).permute(0, 2, 1, 3);
            double scale = 1 / Math.sqrt(HEAD_DIM);
            Stopwatch.Timing t = series.time("loraid " + label,
                () -> Backends.cpu().attention(q, k, v, scale, null, out, null));
            ours = Figures.gflops(flops, t.median());
        } catch (UnsupportedOperationException e) {
            ctx.log().println("loraid attention: " + e.getMessage() + "; its figures are n/a");
        }

        double torch = series.torch("pytorch " + label, t -> t.attention(TOKENS, HEADS, HEAD_DIM))
            .map(t -> Figures.gflops(flops, t.median())).orElse(Double.NaN);
        ctx.out().println(Figures.line(label, ours, torch, peak));
    }
}
