package dev.loraid.bench;

import dev.loraid.bench.harness.BenchTensors;
import dev.loraid.bench.harness.Figures;
import dev.loraid.bench.harness.Series;
import dev.loraid.bench.harness.Stopwatch;
import dev.loraid.bench.harness.TorchCpu;

import java.util.Locale;
import java.util.function.Function;

/**
 * The second half of a benchmark that runs one of our modules against the same module written with PyTorch's ops (its
 * twin): the outputs compared first, both timed in the same series, then the times, GFLOP/s against the machine's peak
 * and {@code ratio=<pytorch time ÷ ours>}.
 */
public final class TwinReport {
    private TwinReport() {
    }

    /**
     * @param mine  our output, computed once before timing
     * @param ours  one call of our module
     * @param twin  opens PyTorch's twin (its {@code output()} for the cross-check, {@code run()} timed)
     * @param flops the nominal floating-point operations of one call
     */
    public static void run(BenchContext ctx, Series series, String label, float[] mine, Runnable ours,
            Function<TorchCpu, TorchCpu.OutputRun> twin, double flops) {
        ctx.torch().ifPresent(t -> {
            try (TorchCpu.OutputRun run = twin.apply(t)) {
                float[] theirs = run.output();
                ctx.log().printf(Locale.ROOT, "cross-check vs PyTorch: output max |diff| %.2e (max |out| %.2e)%n",
                    BenchTensors.maxAbsDiff(mine, theirs), BenchTensors.maxAbs(theirs));
            }
        });
        Series.Paired p = series.againstTorch("loraid " + label, ours, "pytorch " + label, twin);
        double seconds = p.ours().median();
        double torch = p.torch().map(Stopwatch.Timing::median).orElse(Double.NaN);
        var out = ctx.out();
        out.printf(Locale.ROOT, "%s: loraid %s ms, pytorch %s ms; nominal %.1f GFLOP%n", label,
            Figures.num(seconds * 1e3, 1), Figures.num(torch * 1e3, 1), flops / 1e9);
        out.println(Figures.line(label, Figures.gflops(flops, seconds), Figures.gflops(flops, torch), p.ratio(),
            ctx.remeasureFmaPeak()));
        out.println("ratio=" + Figures.num(p.ratio(), 2));
    }
}
