package dev.loraid.bench.harness;

import java.util.Locale;

/** The result-line format shared by every benchmark: throughput, ratio to PyTorch, fraction of the FMA peak. */
public final class Figures {
    private Figures() {
    }

    public static double gflops(double flops, double seconds) {
        return flops / seconds / 1e9;
    }

    /**
     * {@code <label>: loraid X GFLOP/s, pytorch Y GFLOP/s, peak_fraction=X/peak ratio=X/Y}; a missing figure
     * (NaN) prints as {@code n/a}.
     */
    public static String line(String label, double loraid, double pytorch, double peak) {
        return String.format(Locale.ROOT, "%s: loraid %s GFLOP/s, pytorch %s GFLOP/s, peak_fraction=%s ratio=%s",
            label, num(loraid, 1), num(pytorch, 1), num(loraid / peak, 2), num(loraid / pytorch, 2));
    }

    /** A number with {@code decimals} decimals, or {@code n/a} when it is not finite. */
    public static String num(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v) : "n/a";
    }
}
