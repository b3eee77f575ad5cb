package dev.loraid.bench.gemm;

import dev.loraid.bench.BenchCommand;
import dev.loraid.bench.BenchContext;
import dev.loraid.bench.harness.BenchTensors;
import dev.loraid.bench.harness.Figures;
import dev.loraid.bench.harness.Series;
import dev.loraid.bench.harness.TorchCpu;
import dev.loraid.tensor.Backend;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.cpu.gemm.GemmTiling;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * {@code bench/run gemm}: fp32 GEMM on the Wan 2.1 1.3B shapes (1560 tokens; 1536 model dim, 8960 FFN dim)
 * and the 1024x1536x1536 headline, ours and PyTorch's (MKL) on the same threads in alternating runs, never both at
 * once ({@link Series#againstTorch}); plus our BF16-weight GEMM against our own fp32 figure, in both weight layouts. Our output tensor is reused across
 * runs; PyTorch allocates a fresh one per call (its normal operation through DJL). A timed run is
 * {@link #calls} back-to-back products of one shape (about {@link #FLOP_PER_RUN} flop, ~0.1 s), the same count for
 * both engines: a single 5-GFLOP product (12 ms) after the load gate's quiet window also timed the pool threads'
 * wake-up from idle, a few percent of the figure.
 */
public final class GemmBench implements BenchCommand {
    /** M x K x N; the last is the headline printed on the last line. */
    static final List<int[]> SHAPES = List.of(
        new int[] {1560, 1536, 1536}, new int[] {1560, 1536, 8960}, new int[] {1560, 8960, 1536},
        new int[] {1024, 1536, 1536});

    /** Flop per timed run: each run repeats a product this often ({@link #calls}). */
    static final double FLOP_PER_RUN = 40e9;

    @Override
    public String name() {
        return "gemm";
    }

    /** Products per timed run for shape {@code s} (at least one). */
    static int calls(int[] s) {
        return (int) Math.max(1, Math.round(FLOP_PER_RUN / flop(s)));
    }

    private static double flop(int[] s) {
        return 2.0 * s[0] * s[1] * s[2];
    }

    @Override
    public String summary() {
        return "fp32 GEMM on the Wan shapes vs PyTorch CPU, and BF16 weights vs our fp32 [--runs N] [--warmup N]";
    }

    @Override
    public void run(BenchContext ctx, List<String> args) {
        Series series = ctx.series(args, 7, 3);
        ctx.log().println(GemmTiling.describe() + ", " + ctx.threads() + " threads");
        double peak = ctx.fmaPeak();

        ctx.torch().ifPresent(t -> crossCheck(ctx, t, new int[] {129, 1536, 257}));
        Map<String, Series.Paired> pairs = new LinkedHashMap<>();
        Map<String, Double> ours = new LinkedHashMap<>();
        Map<String, Double> torch = new LinkedHashMap<>();
        for (int[] s : SHAPES) {
            Series.Paired p = againstTorch(series, s);
            pairs.put(label(s), p);
            ours.put(label(s), Figures.gflops(series.log(), "loraid " + label(s) + " F32", p.ours(), calls(s) * flop(s)));
            torch.put(label(s), p.torch().map(t -> Figures.gflops(series.log(), "pytorch " + label(s) + " F32", t,
                calls(s) * flop(s))).orElse(Double.NaN));
        }
        int[] head = SHAPES.getLast();
        double oursT = ours(series, head, DType.F32, true);
        double bf16 = ours(series, head, DType.BF16, false);
        double bf16T = ours(series, head, DType.BF16, true);

        peak = ctx.remeasureFmaPeak();
        List<String> lines = new ArrayList<>();
        for (int[] s : SHAPES.subList(0, SHAPES.size() - 1)) {
            lines.add(Figures.line("gemm " + label(s) + " f32", ours.get(label(s)), torch.get(label(s)),
                pairs.get(label(s)).ratio(), peak));
        }
        double f32 = ours.get(label(head));
        lines.add(ownLine("gemm " + label(head) + " f32 weight-transposed", oursT, f32, peak));
        lines.add(ownLine("gemm " + label(head) + " bf16-weight", bf16, f32, peak));
        lines.add(ownLine("gemm " + label(head) + " bf16-weight-transposed", bf16T, f32, peak));
        lines.add(Figures.line("gemm " + label(head) + " f32", f32, torch.get(label(head)), pairs.get(label(head)).ratio(),
            peak));
        lines.forEach(ctx.out()::println);
    }

    /** A variant of our own GEMM against our fp32 row-major figure (no PyTorch anchor for bf16 through DJL). */
    private static String ownLine(String label, double gflops, double f32, double peak) {
        return label + ": loraid " + Figures.num(gflops, 1) + " GFLOP/s, loraid f32 " + Figures.num(f32, 1)
            + " GFLOP/s, peak_fraction=" + Figures.num(gflops / peak, 2) + " ratio_to_f32=" + Figures.num(gflops / f32, 2);
    }

    /** Our F32 product of shape {@code s} and PyTorch's, in alternating runs of {@link #calls} products each. */
    private static Series.Paired againstTorch(Series series, int[] s) {
        return withProducts(s, DType.F32, false, run -> series.againstTorch("loraid " + label(s) + " F32", run,
            "pytorch " + label(s) + " F32", t -> repeated(t.matmul(s[0], s[1], s[2]), calls(s))));
    }

    /** Our GFLOP/s for a [m,k] F32 @ b; b is [k,n] of {@code weight}, or a transposed view of [n,k] (nn.Linear). */
    private static double ours(Series series, int[] s, DType weight, boolean transposed) {
        String what = "loraid " + label(s) + " " + weight + (transposed ? " weight-transposed" : "");
        return withProducts(s, weight, transposed,
            run -> Figures.gflops(series.log(), what, series.time(what, run), calls(s) * flop(s)));
    }

    /**
     * {@code timed} applied to one timed run of ours, {@link #calls} products of a [m,k] F32 @ b into a reused
     * output, b [k,n] of {@code weight} or a transposed view of [n,k]; the operands live in a scope of their own.
     */
    private static <T> T withProducts(int[] s, DType weight, boolean transposed, Function<Runnable, T> timed) {
        int m = s[0];
        int k = s[1];
        int n = s[2];
        Backend cpu = Backends.cpu();
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor a = BenchTensors.random(1, DType.F32, m, k);
            Tensor b = transposed ? BenchTensors.random(2, weight, n, k).transpose(0, 1) : BenchTensors.random(2, weight, k, n);
            Tensor c = Tensor.empty(DType.F32, m, n);
            int calls = calls(s);
            return timed.apply(() -> {
                for (int i = 0; i < calls; i++) {
                    cpu.matmul(a, b, c, 1, 0, null);
                }
            });
        }
    }

    /** {@code w} run {@code calls} times per run. */
    private static TorchCpu.Workload repeated(TorchCpu.Workload w, int calls) {
        return TorchCpu.Workload.of(() -> {
            for (int i = 0; i < calls; i++) {
                w.run();
            }
        }, w::close);
    }

    /** Both engines multiply the same operands: logs the largest difference relative to the largest value. */
    private static void crossCheck(BenchContext ctx, TorchCpu t, int[] s) {
        try (MemoryScope scope = MemoryScope.open()) {
            Tensor a = BenchTensors.random(3, DType.F32, s[0], s[1]);
            Tensor b = BenchTensors.random(4, DType.F32, s[1], s[2]);
            Tensor c = Tensor.empty(DType.F32, s[0], s[2]);
            Backends.cpu().matmul(a, b, c, 1, 0, null);
            float[] ours = BenchTensors.floats(c);
            float[] ref = t.matmul(BenchTensors.floats(a), BenchTensors.floats(b), s[0], s[1], s[2]);
            ctx.log().printf("cross-check %s vs pytorch: max |diff| / max |value| = %.2e%n", label(s),
                BenchTensors.maxAbsDiff(ours, ref) / BenchTensors.maxAbs(ref));
        }
    }

    static String label(int[] s) {
        return s[0] + "x" + s[1] + "x" + s[2];
    }
}
