package dev.loraid.bench;

import java.util.List;

/**
 * One side-by-side benchmark of {@code bench/run <name>}: a class per benchmark, registered in
 * {@link BenchMain#commands()}. It prints its result lines to {@link BenchContext#out()} (the last line is the
 * headline figure, with {@code ratio=} last) and its progress and load log to {@link BenchContext#log()}.
 */
public interface BenchCommand {
    /** The name after {@code bench/run}, e.g. {@code gemm}. */
    String name();

    /** One line for the usage listing. */
    String summary();

    /**
     * Runs the benchmark.
     *
     * @param args the arguments after the name
     * @throws IllegalArgumentException on bad arguments (exit code 2)
     */
    void run(BenchContext ctx, List<String> args) throws Exception;
}
