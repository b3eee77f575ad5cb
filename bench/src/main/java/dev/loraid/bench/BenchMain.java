package dev.loraid.bench;

import dev.loraid.bench.attention.AttentionBench;
import dev.loraid.bench.gemm.GemmBench;
import dev.loraid.bench.generate.GenerateBench;
import dev.loraid.bench.gpu.GpuGenerateBench;
import dev.loraid.bench.gpu.GpuTrainStepBench;
import dev.loraid.bench.gpu.WanBlockGpuBench;
import dev.loraid.bench.wanblock.WanBlockBench;
import dev.loraid.bench.harness.LoadGate;
import dev.loraid.bench.merge.MergeBench;
import dev.loraid.bench.train.LinearTrainBench;
import dev.loraid.bench.train.TrainBatchBench;
import dev.loraid.bench.train.TrainStepBench;
import dev.loraid.bench.umt5.Umt5Bench;
import dev.loraid.bench.clip.ClipBench;
import dev.loraid.bench.vae.VaeEncodeBench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code bench/run <name> [--no-torch] [args]}: runs one side-by-side benchmark. Exit codes: 0 ok, 1 failure,
 * 2 usage. ({@code bench/run jmh ...} goes to JMH's own main instead.)
 */
public final class BenchMain {
    private BenchMain() {
    }

    /** Every benchmark, in the order the usage lists them: add new ones here, one class each. */
    static List<BenchCommand> commands() {
        return List.of(new GemmBench(), new AttentionBench(), new LinearTrainBench(), new WanBlockBench(),
                new MergeBench(), new WanBlockGpuBench(), new GpuTrainStepBench(), new GpuGenerateBench(), new TrainStepBench(),
                new TrainBatchBench(), new GenerateBench(), new VaeEncodeBench(), new Umt5Bench(),
                new ClipBench());
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
            usage(args.length == 0 ? err : out);
            return args.length == 0 ? 2 : 0;
        }
        BenchCommand cmd = commands().stream().filter(c -> c.name().equals(args[0])).findFirst().orElse(null);
        if (cmd == null) {
            err.println("bench: unknown benchmark '" + args[0] + "'");
            usage(err);
            return 2;
        }
        List<String> rest = new ArrayList<>(List.of(args).subList(1, args.length));
        boolean torch = !rest.remove("--no-torch");
        BenchContext ctx = new BenchContext(out, err, LoadGate.forThisMachine(), torch);
        try {
            cmd.run(ctx, rest);
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("bench " + cmd.name() + ": " + e.getMessage());
            return 2;
        } catch (Exception e) {
            err.println("bench " + cmd.name() + ": error: " + e);
            e.printStackTrace(err);
            return 1;
        } finally {
            ctx.close();
        }
    }

    private static void usage(PrintStream s) {
        s.println("usage: bench/run <benchmark> [--no-torch] [options]   |   bench/run jmh [JMH options]");
        for (BenchCommand c : commands()) {
            s.printf("  %-12s %s%n", c.name(), c.summary());
        }
    }
}
