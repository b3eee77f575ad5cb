package dev.loraid.bench.harness;

import java.io.PrintStream;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The timed series of a side-by-side benchmark: {@code --runs N --warmup N} (the benchmark's defaults otherwise),
 * and both sides timed the same way by the {@link Stopwatch}; PyTorch's side only when its anchor is loaded.
 */
public final class Series {
    private final Stopwatch stopwatch;
    private final Supplier<Optional<TorchCpu>> torch;
    private final int runs;
    private final int warmup;

    private Series(Stopwatch stopwatch, Supplier<Optional<TorchCpu>> torch, int runs, int warmup) {
        this.stopwatch = stopwatch;
        this.torch = torch;
        this.runs = runs;
        this.warmup = warmup;
    }

    /**
     * Reads {@code --runs} and {@code --warmup} from {@code args} and fails on anything else left there.
     *
     * @param torch the PyTorch anchor, asked for only when PyTorch's side is timed
     */
    public static Series fromArgs(List<String> args, int runs, int warmup, Stopwatch stopwatch,
            Supplier<Optional<TorchCpu>> torch) {
        int r = Options.intOption(args, "--runs", runs);
        int w = Options.intOption(args, "--warmup", warmup);
        Options.requireEmpty(args);
        return new Series(stopwatch, torch, r, w);
    }

    /** Warm-up runs, then the timed runs of {@code work}. */
    public Stopwatch.Timing time(String label, Runnable work) {
        return stopwatch.time(label, warmup, runs, work);
    }

    /** Two of our own workloads timed in alternation ({@link Stopwatch#interleaved}). */
    public Stopwatch.Interleaved interleaved(String labelA, Runnable a, String labelB, Runnable b) {
        return stopwatch.interleaved(labelA, a, labelB, b, warmup, runs);
    }

    /** Where the load lines go. */
    public PrintStream log() {
        return stopwatch.log();
    }

    /**
     * The timed runs of PyTorch's workload made by {@code open} (closed afterwards), or empty when the anchor is not
     * loaded (its figures then print as n/a).
     */
    public Optional<Stopwatch.Timing> torch(String label, Function<TorchCpu, ? extends TorchCpu.Workload> open) {
        return torch.get().map(t -> {
            try (TorchCpu.Workload w = open.apply(t)) {
                return time(label, w::run);
            }
        });
    }

    /**
     * Our workload and PyTorch's (made by {@code open}, closed afterwards) timed in alternation
     * ({@link Stopwatch#interleaved}), or ours alone when the anchor is not loaded.
     */
    public Paired againstTorch(String label, Runnable ours, String torchLabel,
                               Function<TorchCpu, ? extends TorchCpu.Workload> open) {
        Optional<TorchCpu> anchor = torch.get();
        if (anchor.isEmpty()) {
            return new Paired(time(label, ours), Optional.empty(), Double.NaN);
        }
        try (TorchCpu.Workload w = open.apply(anchor.get())) {
            Stopwatch.Interleaved r = stopwatch.interleaved(label, ours, torchLabel, w::run, warmup, runs);
            return new Paired(r.a(), Optional.of(r.b()), r.ratio());
        }
    }

    /**
     * Our timing and PyTorch's from alternating runs.
     *
     * @param ratio how many times as fast ours ran: the median over the pairs of runs (NaN without PyTorch)
     */
    public record Paired(Stopwatch.Timing ours, Optional<Stopwatch.Timing> torch, double ratio) {
    }
}
