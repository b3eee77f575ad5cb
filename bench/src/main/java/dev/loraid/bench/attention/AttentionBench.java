package dev.loraid.bench.attention;

import dev.loraid.bench.BenchCommand;
import dev.loraid.bench.BenchContext;
import dev.loraid.bench.harness.BenchTensors;
import dev.loraid.bench.harness.Figures;
import dev.loraid.bench.harness.Series;
import dev.loraid.bench.harness.Stopwatch;
import dev.loraid.bench.harness.TorchCpu;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;

import java.util.List;

/**
 * {@code bench/run attention}: scaled-dot-product attention at 4096 tokens x 12 heads x 128 head dim, fp32.
 * Ours is {@code Backend.attention} on [B, H, L, D] views of [B, L, H, D] memory (the model's layout). Two PyTorch
 * anchors: its fused {@code scaled_dot_product_attention} (ATen's CPU flash kernel, through a TorchScript module)
 * on the same views, which is the honest one, and the matmul-softmax-matmul composition with a
 * [12, 4096, 4096] score tensor. Also our GEMM on a Wan shape in the same run: {@code gemm_fraction} is our
 * attention rate over it. FLOPs = 4·L²·D·H (the two matrix products).
 */
public final class AttentionBench implements BenchCommand {
    private static final int TOKENS = 4096;
    private static final int HEADS = 12;
    private static final int HEAD_DIM = 128;
    /** The GEMM our attention rate is read against: Wan 1.3B's q/k/v/o projection at 1560 tokens (M x K x N). */
    private static final int[] GEMM = {1560, 1536, 1536};
    /** Cross-check size: not a multiple of the kernels' tiles, so the partial tiles are compared too. */
    private static final int CHECK_TOKENS = 1000;

    @Override
    public String name() {
        return "attention";
    }

    @Override
    public String summary() {
        return "attention 4096 tokens x 12 heads x 128 vs PyTorch's fused SDPA and matmul-softmax-matmul [--runs N] [--warmup N]";
    }

    @Override
    public void run(BenchContext ctx, List<String> args) {
        Series series = ctx.series(args, 7, 1); // 7 alternating pairs: 3 read 0.60 and 0.87 on one noisy host
        ctx.fmaPeak();
        double flops = 4.0 * TOKENS * TOKENS * HEAD_DIM * HEADS;
        String label = "attention " + TOKENS + "x" + HEADS + "x" + HEAD_DIM + " f32";

        ctx.torch().ifPresent(t -> crossCheck(ctx, t));
        String fusedWhat = "pytorch fused sdpa " + label;
        double ours = Double.NaN;
        double fused = Double.NaN;
        double fusedRatio = Double.NaN;
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor q = heads(BenchTensors.random(1, DType.F32, 1, TOKENS, HEADS, HEAD_DIM));
            Tensor k = heads(BenchTensors.random(2, DType.F32, 1, TOKENS, HEADS, HEAD_DIM));
            Tensor v = heads(BenchTensors.random(3, DType.F32, 1, TOKENS, HEADS, HEAD_DIM));
            Tensor out = heads(Tensor.empty(DType.F32, 1, TOKENS, HEADS, HEAD_DIM));
            double scale = 1 / Math.sqrt(HEAD_DIM);
            String what = "loraid " + label;
            // the headline anchor, PyTorch's fused kernel, runs in alternation with ours
            Series.Paired p = series.againstTorch(what, () -> Backends.cpu().attention(q, k, v, scale, null, out, null),
                fusedWhat, t -> t.fusedAttention(TOKENS, HEADS, HEAD_DIM));
            ours = Figures.gflops(ctx.log(), what, p.ours(), flops);
            fused = p.torch().map(t -> Figures.gflops(ctx.log(), fusedWhat, t, flops)).orElse(Double.NaN);
            fusedRatio = p.ratio();
        } catch (UnsupportedOperationException e) {
            ctx.log().println("loraid attention: " + e.getMessage() + "; its figures are n/a");
            fused = series.torch(fusedWhat, t -> t.fusedAttention(TOKENS, HEADS, HEAD_DIM))
                .map(t -> Figures.gflops(ctx.log(), fusedWhat, t, flops)).orElse(Double.NaN);
        }
        double gemm = oursGemm(ctx);
        String composedWhat = "pytorch matmul-softmax-matmul " + label;
        double composed = series.torch(composedWhat, t -> t.attention(TOKENS, HEADS, HEAD_DIM))
            .map(t -> Figures.gflops(ctx.log(), composedWhat, t, flops)).orElse(Double.NaN);

        double peak = ctx.remeasureFmaPeak();
        ctx.out().println(Figures.line(label + " (pytorch matmul-softmax-matmul)", ours, composed, peak));
        ctx.out().println(Figures.line(label + " (pytorch fused sdpa)", ours, fused, fusedRatio, peak)
            + " gemm_fraction=" + Figures.num(ours / gemm, 2) + " (loraid gemm " + gemmLabel() + " f32 "
            + Figures.num(gemm, 1) + " GFLOP/s)");
    }

    /** [1, L, H, D] memory seen as [1, H, L, D]. */
    private static Tensor heads(Tensor blhd) {
        return blhd.permute(0, 2, 1, 3);
    }

    /** Our fp32 GEMM rate on {@link #GEMM} (7 runs after 3 warm-ups: one product is ~10 ms). */
    private static double oursGemm(BenchContext ctx) {
        int m = GEMM[0];
        int k = GEMM[1];
        int n = GEMM[2];
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor a = BenchTensors.random(4, DType.F32, m, k);
            Tensor b = BenchTensors.random(5, DType.F32, k, n);
            Tensor c = Tensor.empty(DType.F32, m, n);
            String what = "loraid gemm " + gemmLabel() + " f32";
            Stopwatch.Timing t = ctx.stopwatch().time(what, 3, 7, () -> Backends.cpu().matmul(a, b, c, 1, 0, null));
            return Figures.gflops(ctx.log(), what, t, 2.0 * m * k * n);
        }
    }

    private static String gemmLabel() {
        return GEMM[0] + "x" + GEMM[1] + "x" + GEMM[2];
    }

    /** Ours and PyTorch's fused SDPA on the same operands: logs the largest difference relative to the largest value. */
    private static void crossCheck(BenchContext ctx, TorchCpu torch) {
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor q = BenchTensors.random(6, DType.F32, 1, CHECK_TOKENS, HEADS, HEAD_DIM);
            Tensor k = BenchTensors.random(7, DType.F32, 1, CHECK_TOKENS, HEADS, HEAD_DIM);
            Tensor v = BenchTensors.random(8, DType.F32, 1, CHECK_TOKENS, HEADS, HEAD_DIM);
            Tensor out = Tensor.empty(DType.F32, 1, CHECK_TOKENS, HEADS, HEAD_DIM);
            Backends.cpu().attention(heads(q), heads(k), heads(v), 1 / Math.sqrt(HEAD_DIM), null, heads(out), null);
            float[] ours = BenchTensors.floats(out);
            float[] ref = torch.fusedAttention(BenchTensors.floats(q), BenchTensors.floats(k), BenchTensors.floats(v),
                CHECK_TOKENS, HEADS, HEAD_DIM);
            ctx.log().printf("cross-check attention %dx%dx%d vs pytorch fused sdpa: max |diff| / max |value| = %.2e%n",
                CHECK_TOKENS, HEADS, HEAD_DIM, BenchTensors.maxAbsDiff(ours, ref) / BenchTensors.maxAbs(ref));
        }
    }
}
