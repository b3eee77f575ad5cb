package dev.loraid.bench.harness;

import java.io.PrintStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Times a piece of work the way every figure of this harness is taken: warm-up runs (the count asked for, then more
 * while the JIT is still compiling), then {@code runs} timed runs, each started in a quiet window of the
 * {@link LoadGate}; a run during which other processes used more than the gate allows is repeated while the gate's
 * waiting budget lasts (at most {@code runs} extra times).
 * Reports the median and logs the load, including the worst load a kept run saw.
 */
public final class Stopwatch {
    private static final long MAX_EXTRA_WARMUP_SECONDS = 20;
    private static final int CLEAN_RUNS = 2;

    private final LoadGate gate;
    private final PrintStream log;

    public Stopwatch(LoadGate gate, PrintStream log) {
        this.gate = gate;
        this.log = log;
    }

    /**
     * Times of the clean runs (or all runs, when a quiet machine never came) and the load they ran under.
     *
     * @param othersMaxCpus the most CPUs other processes used during a kept run
     * @param redone        runs thrown away because others used the CPUs meanwhile
     * @param cpusHeld      CPUs this process kept busy on average over the kept runs (NaN without /proc)
     */
    public record Timing(double[] seconds, double othersMaxCpus, int redone, long waitedMillis, double cpusHeld) {
        public double median() {
            return Stopwatch.median(seconds);
        }

        public double best() {
            return Arrays.stream(seconds).min().orElse(Double.NaN);
        }

        /**
         * The median scaled by the share of {@code threads} CPUs this process actually held: an estimate of the
         * time on an unshared machine, for a box where quiet windows never come. Rough: 10 ms ticks, and threads
         * that spin while waiting (OpenMP) count as held, which flatters the spinning engine's time.
         */
        public double cpuNormalizedMedian(int threads) {
            return Double.isFinite(cpusHeld) ? median() * Math.min(1, cpusHeld / threads) : median();
        }
    }

    /** Where the load lines go. */
    public PrintStream log() {
        return log;
    }

    /**
     * Further warm-up runs while the JIT is still compiling (for at most {@link #MAX_EXTRA_WARMUP_SECONDS}): the figures
     * are of steady state, and a JVM compiles a step's kernels over its first seconds, on the CPUs the timed runs would
     * share with it (a 2-run warm-up of {@code linear-train} under AVX2 timed 216 ms steps, 195 ms once compiled).
     */
    private static int warmUntilCompiled(Runnable work) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return 0;
        }
        return warmUntilCompiled(work, jit::getTotalCompilationTime, MAX_EXTRA_WARMUP_SECONDS * 1_000_000_000L);
    }

    /**
     * Runs {@code work} until {@link #CLEAN_RUNS} runs in a row take under 1% of their wall time in compilation
     * ({@code compiledMillis}: the JIT's running total; C2 compiles in bursts) or {@code maxNanos} have passed;
     * returns the number of runs before the clean ones.
     */
    static int warmUntilCompiled(Runnable work, LongSupplier compiledMillis, long maxNanos) {
        long start = System.nanoTime();
        for (int runs = 1, clean = 0; ; runs++) {
            long compiled = compiledMillis.getAsLong();
            long t0 = System.nanoTime();
            work.run();
            long wallMillis = (System.nanoTime() - t0) / 1_000_000;
            clean = (compiledMillis.getAsLong() - compiled) * 100 <= wallMillis ? clean + 1 : 0;
            if (clean == CLEAN_RUNS || System.nanoTime() - start > maxNanos) {
                return runs - clean;
            }
        }
    }

    public Timing time(String label, int warmup, int runs, Runnable work) {
        warm(label, warmup, work);
        Kept kept = new Kept(runs);
        while (kept.n < runs) {
            kept.offer(work, runs);
        }
        return kept.report(label);
    }

    /**
     * Two workloads timed in alternation, {@code runs} each (A B, B A, A B, ...), each run gated as in
     * {@link #time}: on a host whose speed drifts over seconds (another machine's load on the same cores, which no
     * load figure inside this one shows) both sides then see the same conditions, and {@link Interleaved#ratio}
     * compares each run with its partner rather than two medians taken minutes apart.
     */
    public Interleaved interleaved(String labelA, Runnable a, String labelB, Runnable b, int warmup, int runs) {
        warm(labelA, warmup, a);
        warm(labelB, warmup, b);
        Kept keptA = new Kept(runs);
        Kept keptB = new Kept(runs);
        for (int i = 0; i < runs; i++) {
            for (int side = 0; side < 2; side++) {
                boolean first = (side == 0) == (i % 2 == 0);
                Kept k = first ? keptA : keptB;
                while (k.n == i) {
                    k.offer(first ? a : b, runs);
                }
            }
        }
        double[] ratios = new double[runs];
        for (int i = 0; i < runs; i++) {
            ratios[i] = keptB.seconds[i] / keptA.seconds[i];
        }
        Interleaved r = new Interleaved(keptA.report(labelA), keptB.report(labelB), median(ratios));
        log.printf("[interleaved] %s against %s: %.2f times as fast, the median of %d pairs%n", labelA, labelB,
            r.ratio(), runs);
        return r;
    }

    /**
     * Timings of two workloads run in alternation.
     *
     * @param ratio the median over the pairs of B's time over A's: how many times as fast A ran as B
     */
    public record Interleaved(Timing a, Timing b, double ratio) {
    }

    private void warm(String label, int warmup, Runnable work) {
        for (int i = 0; i < warmup; i++) {
            work.run();
        }
        int extra = warmUntilCompiled(work);
        if (extra > 0) {
            log.printf("[jit] %s: %d more warm-up runs until two in a row ran without the JIT compiling%n", label, extra);
        }
    }

    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** The kept runs of one workload and the load they ran under. */
    private final class Kept {
        final double[] seconds;
        int n;
        int redone;
        long waited;
        double othersMax;
        double selfCpuTicks;
        double wallCpuTicks;

        Kept(int runs) {
            seconds = new double[runs];
        }

        /** One gated run of {@code work}: kept, or thrown away while the redo and waiting budgets last. */
        void offer(Runnable work, int runs) {
            LoadGate.Wait w = gate.awaitQuiet(gate.maxWaitMillis() - waited);
            waited += w.millis();
            Optional<CpuLoad> before = CpuLoad.sample();
            long t0 = System.nanoTime();
            work.run();
            double s = (System.nanoTime() - t0) / 1e9;
            Optional<CpuLoad> after = CpuLoad.sample();
            double others = before.isPresent() && after.isPresent() ? before.get().othersCpus(after.get()) : 0;
            if (others > gate.maxOthersCpus() && redone < runs && waited < gate.maxWaitMillis()) {
                redone++;
                return;
            }
            othersMax = Math.max(othersMax, others);
            if (before.isPresent() && after.isPresent()) {
                selfCpuTicks += after.get().selfTicks() - before.get().selfTicks();
                wallCpuTicks += before.get().ticksPerCpu(after.get());
            }
            seconds[n++] = s;
        }

        Timing report(String label) {
            double held = wallCpuTicks > 0 ? selfCpuTicks / wallCpuTicks : Double.NaN;
            Timing t = new Timing(seconds, othersMax, redone, waited, held);
            log.printf("[load] %s: median %.4f s of %d runs (best %.4f), others used at most %.2f CPUs in a kept run, "
                    + "%d runs redone, %.1f s waited for quiet, we held %.2f CPUs%s%n", label, t.median(), n, t.best(),
                othersMax, redone, waited / 1e3, held, gate.enabled() ? "" : " (load gate off: no /proc)");
            return t;
        }
    }
}
