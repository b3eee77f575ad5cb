package dev.loraid.bench.merge;

import dev.loraid.bench.BenchCommand;
import dev.loraid.bench.BenchContext;
import dev.loraid.bench.harness.Figures;
import dev.loraid.bench.harness.LoadGate;
import dev.loraid.bench.harness.Options;
import dev.loraid.core.Floats;
import dev.loraid.core.lora.LoraKeys;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bench/run merge}: merges a rank-64 LoRA (all 300 block Linears) into a synthetic BF16 checkpoint with the
 * 1.3B shapes, in a child JVM under {@code /usr/bin/time -v}, against {@code cp} of the same file in the same run.
 * Both read a file the page cache already holds and write a new one. Last line:
 * {@code ... ratio=<merge MB/s ÷ cp MB/s>}; also the merge's peak RSS (target ≤ 1 GiB) and a spot check of the
 * merged values against a float64 computation. With PyTorch on the classpath, the same merge through it
 * ({@link TorchMerge}, in this JVM) is a second anchor, on the line before.
 */
public final class MergeBench implements BenchCommand {
    private static final Pattern MAX_RSS = Pattern.compile("Maximum resident set size \\(kbytes\\): (\\d+)");
    private static final Pattern MERGE_SECONDS = Pattern.compile("merge_seconds=([0-9.]+)");

    @Override
    public String name() {
        return "merge";
    }

    @Override
    public String summary() {
        return "LoRA merge into a synthetic 1.3B BF16 checkpoint vs cp, and peak RSS [--runs N] [--rank R] [--dir D]";
    }

    @Override
    public void run(BenchContext ctx, List<String> args) throws Exception {
        int runs = Options.intOption(args, "--runs", 3);
        int rank = Options.intOption(args, "--rank", 64);
        Path dir = Path.of(stringOption(args, "--dir", Path.of(System.getProperty("java.io.tmpdir"), "loraid-merge-bench").toString()));
        Options.requireEmpty(args);
        Files.createDirectories(dir);
        Path base = dir.resolve("wan13b-synthetic-bf16.safetensors");
        Path lora = dir.resolve("lora-r" + rank + ".safetensors");
        Path out = dir.resolve("merged.safetensors");
        Path copy = dir.resolve("copy.safetensors");
        Path torchOut = dir.resolve("merged-pytorch.safetensors");
        long size = SyntheticWan13B.byteSize();
        if (!Files.exists(base) || Files.size(base) < size) {
            ctx.log().println("writing " + base + " (" + size / 1_000_000 + " MB of tensor data) ...");
            SyntheticWan13B.writeBase(base);
        }
        if (!Files.exists(lora)) {
            ctx.log().println("writing " + lora + " (rank " + rank + ") ...");
            SyntheticWan13B.writeLora(lora, rank);
        }
        long fileBytes = Files.size(base);
        double[] cp = new double[runs];
        double[] merge = new double[runs];
        double[] mergeInner = new double[runs];
        double[] torch = new double[runs];
        long maxRssKb = 0;
        LoadGate gate = LoadGate.forThisMachine();
        for (int r = 0; r < runs; r++) {
            gate.awaitQuiet();
            cp[r] = timed(List.of("cp", base.toString(), copy.toString()), null);
            Files.deleteIfExists(copy);
            gate.awaitQuiet();
            StringBuilder output = new StringBuilder();
            merge[r] = timed(childCommand(base, lora, out), output);
            maxRssKb = Math.max(maxRssKb, match(MAX_RSS, output, "peak RSS"));
            mergeInner[r] = Double.parseDouble(matchText(MERGE_SECONDS, output, "merge seconds"));
            if (r == 0) {
                ctx.log().println("spot check: " + spotCheck(base, lora, out));
            }
            Files.deleteIfExists(out);
            ctx.log().printf("run %d: cp %.2f s, merge %.2f s (%.2f s in the merge itself)%n", r + 1, cp[r], merge[r], mergeInner[r]);
            if (ctx.torch().isPresent()) {
                gate.awaitQuiet();
                long t0 = System.nanoTime();
                TorchMerge.run(ctx.torch().get(), base, lora, torchOut);
                torch[r] = (System.nanoTime() - t0) / 1e9;
                if (r == 0) {
                    ctx.log().println("spot check (pytorch): " + spotCheck(base, lora, torchOut));
                }
                Files.deleteIfExists(torchOut);
                ctx.log().printf("run %d: merge through pytorch %.2f s%n", r + 1, torch[r]);
            }
        }
        double cpMbs = fileBytes / 1e6 / median(cp);
        double mergeMbs = fileBytes / 1e6 / median(merge);
        ctx.out().println("cp " + Figures.num(fileBytes / 1e9, 2) + " GB: median " + Figures.num(median(cp), 2) + " s, "
                + Figures.num(cpMbs, 0) + " MB/s");
        ctx.out().println("merge (child JVM, start included): median " + Figures.num(median(merge), 2) + " s; merge itself "
                + Figures.num(median(mergeInner), 2) + " s, " + Figures.num(fileBytes / 1e6 / median(mergeInner), 0) + " MB/s");
        if (ctx.torch().isPresent()) {
            double torchMbs = fileBytes / 1e6 / median(torch);
            ctx.out().println("merge 1.3B bf16 rank-" + rank + " through pytorch (DJL, in this JVM, no JVM start): pytorch "
                    + Figures.num(torchMbs, 0) + " MB/s, cp " + Figures.num(cpMbs, 0) + " MB/s ratio=" + Figures.num(torchMbs / cpMbs, 2)
                    + "; loraid merge itself " + Figures.num(fileBytes / 1e6 / median(mergeInner), 0) + " MB/s");
        }
        ctx.out().println("merge 1.3B bf16 rank-" + rank + ": loraid " + Figures.num(mergeMbs, 0) + " MB/s, cp " + Figures.num(cpMbs, 0)
                + " MB/s, peak_rss=" + maxRssKb / 1024 + " MiB ratio=" + Figures.num(mergeMbs / cpMbs, 2));
    }

    private static List<String> childCommand(Path base, Path lora, Path out) {
        // the JVM options the loraid launcher gives `loraid merge`: its options file (named by bench/run), no Vector API
        // bounds checks, the serial GC
        String options = System.getProperty("loraid.jvm.options");
        if (options == null || !Files.isRegularFile(Path.of(options))) {
            throw new IllegalStateException("merge: the launcher's JVM options file is not known (-Dloraid.jvm.options="
                + options + "); run the benchmark through bench/run");
        }
        return List.of("/usr/bin/time", "-v", Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "@" + options, "-Djdk.incubator.vector.VECTOR_ACCESS_OOB_CHECK=0", "-XX:+UseSerialGC",
                "-cp", System.getProperty("java.class.path"),
                MergeBenchChild.class.getName(), base.toString(), lora.toString(), out.toString());
    }

    /** Wall seconds of a process; its combined output goes to {@code output} if given. Fails on a non-zero exit. */
    private static double timed(List<String> cmd, StringBuilder output) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int code = p.waitFor();
        double s = (System.nanoTime() - t0) / 1e9;
        if (code != 0) {
            throw new IOException(String.join(" ", cmd.subList(0, Math.min(3, cmd.size()))) + " failed (" + code + "): " + text);
        }
        if (output != null) {
            output.append(text);
        }
        return s;
    }

    private static long match(Pattern p, CharSequence text, String what) {
        return Long.parseLong(matchText(p, text, what));
    }

    private static String matchText(Pattern p, CharSequence text, String what) {
        Matcher m = p.matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("no " + what + " in the child's output: " + text);
        }
        return m.group(1);
    }

    /** Row 0 of blocks.17.ffn.0.weight against W + (alpha/r)·U@D in float64, to bf16 rounding. */
    private static String spotCheck(Path base, Path lora, Path out) throws IOException {
        String m = "blocks.17.ffn.0";
        try (SafetensorsFile b = SafetensorsFile.open(base); SafetensorsFile l = SafetensorsFile.open(lora);
             SafetensorsFile o = SafetensorsFile.open(out)) {
            float[] w = Floats.read(b.tensor(m + ".weight").narrow(0, 0, 1));
            float[] got = Floats.read(o.tensor(m + ".weight").narrow(0, 0, 1));
            float[] up = Floats.read(l.tensor(LoraKeys.key(m, LoraKeys.Part.UP)).narrow(0, 0, 1));
            float[] down = Floats.read(l.tensor(LoraKeys.key(m, LoraKeys.Part.DOWN)));
            double scale = Floats.read(l.tensor(LoraKeys.key(m, LoraKeys.Part.ALPHA)))[0] / up.length;
            int in = w.length;
            double worst = 0;
            for (int j = 0; j < in; j++) {
                double ref = w[j];
                for (int c = 0; c < up.length; c++) {
                    ref += scale * up[c] * (double) down[c * in + j];
                }
                worst = Math.max(worst, Math.abs(got[j] - ref) / Math.max(Math.abs(ref), 1e-3));
            }
            if (worst > 1.0 / 128) {
                throw new IllegalStateException(m + " row 0 differs from the float64 reference by " + worst + " (relative)");
            }
            return m + " row 0 within " + Figures.num(worst, 5) + " relative of float64 (bf16 step 0.0078)";
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static String stringOption(List<String> args, String name, String def) {
        int i = args.indexOf(name);
        if (i < 0) {
            return def;
        }
        if (i + 1 >= args.size()) {
            throw new IllegalArgumentException(name + " needs a value");
        }
        String v = args.get(i + 1);
        args.remove(i + 1);
        args.remove(i);
        return v;
    }
}
