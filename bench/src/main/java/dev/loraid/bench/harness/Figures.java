package dev.loraid.bench.harness;

import dev.loraid.tensor.cpu.Parallel;

import java.io.PrintStream;
import java.util.Locale;

/** The result-line format shared by every benchmark: throughput, ratio to PyTorch, fraction of the FMA peak. */
public final class Figures {
    private Figures() {
    }

    public static double gflops(double flops, double seconds) {
        return flops / seconds / 1e9;
    }

    /**
     * GFLOP/s of the median run of {@code t}; logs the CPU-normalized figure beside it (see
     * {@link Stopwatch.Timing#cpuNormalizedMedian}), the estimate to read when other processes held the cores.
     */
    public static double gflops(PrintStream log, String what, Stopwatch.Timing t, double flops) {
        log.printf("[cpu-normalized] %s: %.1f GFLOP/s (median %.1f)%n", what,
            gflops(flops, t.cpuNormalizedMedian(Parallel.threads())), gflops(flops, t.median()));
        return gflops(flops, t.median());
    }

    /**
     * {@code <label>: loraid X GFLOP/s, pytorch Y GFLOP/s, peak_fraction=X/peak ratio=X/Y}; a missing figure
     * (NaN) prints as {@code n/a}.
     */
    public static String line(String label, double loraid, double pytorch, double peak) {
        return line(label, loraid, pytorch, loraid / pytorch, peak);
    }

    /** {@link #line(String, double, double, double)} with the ratio of alternating runs ({@link Series.Paired}). */
    public static String line(String label, double loraid, double pytorch, double ratio, double peak) {
        return String.format(Locale.ROOT, "%s: loraid %s GFLOP/s, pytorch %s GFLOP/s, peak_fraction=%s ratio=%s",
            label, num(loraid, 1), num(pytorch, 1), num(loraid / peak, 2), num(ratio, 2));
    }

    /** A number with {@code decimals} decimals, or {@code n/a} when it is not finite. */
    public static String num(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v) : "n/a";
    }
}
