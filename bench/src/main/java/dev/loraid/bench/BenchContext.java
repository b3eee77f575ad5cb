package dev.loraid.bench;

import dev.loraid.bench.harness.FmaPeak;
import dev.loraid.bench.harness.LoadGate;
import dev.loraid.bench.harness.Series;
import dev.loraid.bench.harness.Stopwatch;
import dev.loraid.bench.harness.TorchCpu;
import dev.loraid.tensor.cpu.Parallel;

import java.io.PrintStream;
import java.util.List;
import java.util.Optional;

/**
 * What every {@link BenchCommand} shares within one run: the output streams, the load gate and timer, the
 * machine's FMA peak (measured once, on first use, in this JVM) and the PyTorch anchor when it is on the
 * classpath.
 */
public final class BenchContext {
    private final PrintStream out;
    private final PrintStream log;
    private final Stopwatch stopwatch;
    private final boolean torchWanted;
    private Optional<TorchCpu> torch;
    private double peak = Double.NaN;

    public BenchContext(PrintStream out, PrintStream log, LoadGate gate, boolean torchWanted) {
        this.out = out;
        this.log = log;
        this.stopwatch = new Stopwatch(gate, log);
        this.torchWanted = torchWanted;
    }

    /** Result lines. */
    public PrintStream out() {
        return out;
    }

    /** Progress, load and configuration lines. */
    public PrintStream log() {
        return log;
    }

    public Stopwatch stopwatch() {
        return stopwatch;
    }

    /** The benchmark's timed series from its arguments ({@code --runs}, {@code --warmup}; nothing else). */
    public Series series(List<String> args, int runs, int warmup) {
        return Series.fromArgs(args, runs, warmup, stopwatch, this::torch);
    }

    /** Threads our kernels use (the {@link Parallel} pool); PyTorch is given the same number. */
    public int threads() {
        return Parallel.threads();
    }

    /** The FMA peak of this machine on {@link #threads()} threads, in GFLOP/s. */
    public double fmaPeak() {
        if (Double.isNaN(peak)) {
            peak = FmaPeak.measure(stopwatch, log);
        }
        return peak;
    }

    /** Whether the run asked for the PyTorch anchor (no {@code --no-torch}). */
    public boolean torchWanted() {
        return torchWanted;
    }

    /** PyTorch's CPU kernels in this JVM, or empty when DJL is not on the classpath or was turned off. */
    public Optional<TorchCpu> torch() {
        if (torch == null) {
            torch = torchWanted ? TorchCpu.load(threads(), log) : Optional.empty();
        }
        return torch;
    }

    /** Releases PyTorch's memory, if it was loaded. */
    void close() {
        if (torch != null) {
            torch.ifPresent(TorchCpu::close);
        }
    }
}
