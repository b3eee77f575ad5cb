package dev.loraid.bench.harness;

import dev.loraid.tensor.cpu.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.io.PrintStream;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * The machine's fp32 FMA peak, measured and derived. Measured: every {@link Parallel} thread runs a register-only
 * loop of independent vector FMAs, nothing loaded or stored. Derived: threads x lanes x 2 flop x FMA pipes x the
 * {@link CoreClock measured clock}, the pipes being the measured FMAs per cycle rounded to a whole number. The
 * benchmarks' {@code peak_fraction} divides by the larger of the two, so a kernel can never look faster than
 * the hardware (a probe that falls short of the pipes would flatter every fraction of it).
 *
 * <p>Independent accumulators must cover FMA latency x pipes: 4 x 2 = 8 on current x86 cores, 4 x 4 = 16 on
 * Neoverse V1/V2. The loop keeps 12 chains where there are 16 vector registers (AVX2: 12 + the two operands fit
 * without a spill) and 24 where there are 32 (AVX-512, NEON/SVE).
 */
public final class FmaPeak {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final boolean X86 = System.getProperty("os.arch", "").matches("amd64|x86_64");
    /** Twelve more chains where the ISA has 32 vector registers. */
    private static final boolean WIDE = !X86 || S.vectorBitSize() >= 512;
    private static final int CHAINS = WIDE ? 24 : 12;
    /** About 20-40 ms a run: shorter runs (5 ms) read one pipe now and then when a thread started late. */
    private static final int ITERATIONS = 8_000_000;
    private static final DoubleAdder SINK = new DoubleAdder();
    /** How far above a whole number of pipes a measurement may read before it counts as the next one. */
    static final double PIPE_SLACK = 0.15;

    private FmaPeak() {
    }

    /** What was measured and what it implies. */
    public record Peak(double measured, double clockGhz, int pipes, double derived) {
        /** The figure fractions are taken of: the larger one. */
        public double gflops() {
            return Math.max(measured, derived);
        }
    }

    /** GFLOP/s on all pool threads: {@link Peak#gflops()}, with a line describing how it was found. */
    public static double measure(Stopwatch stopwatch, PrintStream log) {
        int threads = Parallel.threads();
        Runnable work = () -> Parallel.forEach(threads, t -> SINK.add(fmaLoop(ITERATIONS)));
        Stopwatch.Timing t = stopwatch.time("fma peak", 2, 7, work);
        double measured = 2.0 * CHAINS * S.length() * (double) ITERATIONS * threads / t.best() / 1e9;
        Peak peak = derive(measured, CoreClock.allCoreGigahertz(5), threads, S.length());
        log.printf("fma peak: %.1f GFLOP/s measured on %d threads (%s, %d-bit vectors, %d fp32 lanes, %d chains); "
                + "all-core clock %.2f GHz measured, %d FMA pipes -> %.1f GFLOP/s derived; fractions use %.1f%n",
            measured, threads, isa(), S.vectorBitSize(), S.length(), CHAINS, peak.clockGhz(), peak.pipes(),
            peak.derived(), peak.gflops());
        return peak.gflops();
    }

    /**
     * The derived peak: FMAs per cycle per thread as whole pipes (at least one), rounded up where the measurement
     * is more than {@link #PIPE_SLACK} above a whole number. The probe cannot run faster than the pipes, only slower:
     * a cloud core whose sibling thread another VM keeps busy measured 1.2-1.5 pipes' worth on a two-pipe Zen 3
     * (2026-12-08), which plain rounding read as one pipe.
     */
    static Peak derive(double measuredGflops, double clockGhz, int threads, int lanes) {
        double flopPerCycleAndPipe = 2.0 * lanes * threads * clockGhz;
        double perCycle = measuredGflops / flopPerCycleAndPipe;
        double whole = Math.floor(perCycle);
        int pipes = (int) Math.max(1, perCycle - whole > PIPE_SLACK ? whole + 1 : whole);
        return new Peak(measuredGflops, clockGhz, pipes, pipes * flopPerCycleAndPipe);
    }

    /** The instruction set the preferred species runs on, as far as the JVM shows it. */
    static String isa() {
        if (!X86) {
            return System.getProperty("os.arch") + (S.vectorBitSize() > 128 ? " SVE" : " NEON");
        }
        return S.vectorBitSize() >= 512 ? "AVX-512" : S.vectorBitSize() == 256 ? "AVX2" : "SSE";
    }

    /**
     * {@code iterations x CHAINS} independent FMAs of the preferred width; returns a value to keep them live. The
     * second twelve chains are dead code where {@link #WIDE} is false, and C2 drops them with their registers.
     */
    static float fmaLoop(int iterations) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f);
        FloatVector x = FloatVector.broadcast(S, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(S, 1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        FloatVector c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        FloatVector d0 = c0, d1 = c0, d2 = c0, d3 = c0, d4 = c0, d5 = c0;
        FloatVector d6 = c0, d7 = c0, d8 = c0, d9 = c0, d10 = c0, d11 = c0;
        for (int i = 0; i < iterations; i++) {
            c0 = c0.fma(m, x);
            c1 = c1.fma(m, x);
            c2 = c2.fma(m, x);
            c3 = c3.fma(m, x);
            c4 = c4.fma(m, x);
            c5 = c5.fma(m, x);
            c6 = c6.fma(m, x);
            c7 = c7.fma(m, x);
            c8 = c8.fma(m, x);
            c9 = c9.fma(m, x);
            c10 = c10.fma(m, x);
            c11 = c11.fma(m, x);
            if (WIDE) {
                d0 = d0.fma(m, x);
                d1 = d1.fma(m, x);
                d2 = d2.fma(m, x);
                d3 = d3.fma(m, x);
                d4 = d4.fma(m, x);
                d5 = d5.fma(m, x);
                d6 = d6.fma(m, x);
                d7 = d7.fma(m, x);
                d8 = d8.fma(m, x);
                d9 = d9.fma(m, x);
                d10 = d10.fma(m, x);
                d11 = d11.fma(m, x);
            }
        }
        FloatVector sum = c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11);
        if (WIDE) {
            sum = sum.add(d0).add(d1).add(d2).add(d3).add(d4).add(d5).add(d6).add(d7).add(d8).add(d9).add(d10).add(d11);
        }
        return sum.reduceLanes(VectorOperators.ADD);
    }
}
