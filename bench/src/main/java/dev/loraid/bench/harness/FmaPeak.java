package dev.loraid.bench.harness;

import dev.loraid.tensor.cpu.Parallel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.io.PrintStream;
import java.util.concurrent.atomic.DoubleAdder;

/**
 * The machine's fp32 FMA peak as our JVM can reach it: every {@link Parallel} thread runs a register-only loop
 * of independent vector FMAs (ten accumulators cover 2 FMA pipes x 4-5 cycles of latency), nothing loaded or
 * stored. The GEMM figures are reported as a fraction of this number.
 */
public final class FmaPeak {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int CHAINS = 10;
    private static final DoubleAdder SINK = new DoubleAdder();

    private FmaPeak() {
    }

    /** GFLOP/s on all pool threads: the best of 7 gated runs. */
    public static double measure(Stopwatch stopwatch, PrintStream log) {
        int threads = Parallel.threads();
        long iterations = 4_000_000;
        Runnable work = () -> Parallel.forEach(threads, t -> SINK.add(fmaLoop(iterations)));
        Stopwatch.Timing t = stopwatch.time("fma peak", 2, 7, work);
        double flops = 2.0 * CHAINS * S.length() * iterations * threads;
        double gflops = flops / t.best() / 1e9;
        log.printf("fma peak: %.1f GFLOP/s on %d threads (%d-bit vectors, %d fp32 lanes)%n", gflops, threads,
            S.vectorBitSize(), S.length());
        return gflops;
    }

    /** {@code iterations x CHAINS} dependent-free FMAs of the preferred width; returns a value to keep them live. */
    static float fmaLoop(long iterations) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f);
        FloatVector x = FloatVector.broadcast(S, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(S, 1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0;
        FloatVector c5 = c0, c6 = c0, c7 = c0, c8 = c0, c9 = c0;
        for (long i = 0; i < iterations; i++) {
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
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9)
            .reduceLanes(VectorOperators.ADD);
    }
}
