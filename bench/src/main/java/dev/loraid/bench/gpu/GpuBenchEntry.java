package dev.loraid.bench.gpu;

import dev.loraid.bench.BenchContext;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * The two ways a GPU benchmark runs: from {@code bench/run} (the harness), or as its own main class on the device
 * machine, where scripts/gpu-check.sh starts it with the carried runtime and no harness. Both end in the benchmark's
 * static body, which returns an exit code.
 */
final class GpuBenchEntry {
    /** A benchmark's body: parses its options, prints its lines, returns 0 when it ran. */
    @FunctionalInterface
    interface Body {
        int run(List<String> args, PrintStream out, PrintStream log) throws Exception;
    }

    private GpuBenchEntry() {
    }

    /**
     * From the harness, which consumed {@code --no-torch} (its PyTorch is the CPU one through DJL; these benchmarks'
     * anchor is PyTorch CUDA in a child process), so the flag is handed on; a non-zero code is a failure.
     */
    static void fromHarness(String name, BenchContext ctx, List<String> args, Body body) throws Exception {
        List<String> a = new ArrayList<>(args);
        if (!ctx.torchWanted()) {
            a.add("--no-torch");
        }
        int rc = body.run(a, ctx.out(), ctx.log());
        if (rc != 0) {
            throw new IllegalStateException(name + " exited with " + rc);
        }
    }

    /** As a main class: exit 2 on a usage error, 1 on a failure, else the body's code. */
    static void main(String name, String[] args, Body body) throws Exception {
        try {
            System.exit(body.run(new ArrayList<>(List.of(args)), System.out, System.err));
        } catch (IllegalArgumentException e) {
            System.err.println(name + ": " + e.getMessage());
            System.exit(2);
        } catch (IllegalStateException e) {
            System.err.println(name + ": " + e.getMessage());
            System.exit(1);
        }
    }
}
