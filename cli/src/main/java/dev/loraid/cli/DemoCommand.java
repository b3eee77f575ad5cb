package dev.loraid.cli;

import dev.loraid.core.Reporter;
import dev.loraid.core.demo.DemoBase;
import dev.loraid.core.demo.DemoTable;
import dev.loraid.core.demo.LoraidDemo;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraNetwork;
import dev.loraid.core.lora.LoraWeights;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.wan.WanCheckpoint;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanInputs;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanPresets;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * {@code loraid demo}: the LORAID story on the demo's tiny Wan model shipped in the jar ({@link LoraidDemo}: three
 * characters trained as LORAIDs and as ordinary LoRAs, combined, pictured and scored); {@code --quick} runs the same
 * stages smaller; {@code --rebuild-base} retrains the shipped base from its seeds ({@link DemoBase}).
 *
 * <p>{@code --check}: the golden-parity checks on the tiny Wan DiT embedded in the jar (copies of testdata/golden's
 * 4-block model, LoRAs and reference outputs): load it through the checkpoint loader, run the Wan 2.1 and Wan 2.2
 * (per-token timestep) forward passes, apply a LoRA at sampling time, and apply two LORAID LoRAs on disjoint blocks —
 * each compared with the independent reference (or, for LORAID, with the model whose weights were merged offline).
 * {@code --device} runs it all on a GPU (outputs are compared on the host). Exit code 1 if any output differs by more
 * than the golden tolerance.
 */
public final class DemoCommand extends OptionsCommand {
    private static final String RESOURCES = "demo/";
    static final String BASE_RESOURCE = "loraid_demo_base.safetensors";
    private static final double ATOL = 1e-4;
    private static final double RTOL = 1e-4;

    @Override
    public String name() {
        return "demo";
    }

    @Override
    public String summary() {
        return "train three LoRAs as LORAIDs and as ordinary LoRAs on a tiny model, combine, draw and score them";
    }

    @Override
    Options options() {
        return new Options().addOption(CliArgs.deviceOption())
                .addOption(CliArgs.flag("quick", "fewer pictures, epochs and steps (well under a minute); the same stages and outputs"))
                .addOption(CliArgs.value("out", "DIR", "output folder (default demo-out)"))
                .addOption(CliArgs.value("base", "FILE", "the demo base DiT to use instead of the one in the jar"))
                .addOption(CliArgs.flag("rebuild-base", "retrain the demo base model from its fixed seeds into DIR/base/"))
                .addOption(CliArgs.flag("check", "instead: check the embedded golden tiny model against reference outputs"));
    }

    @Override
    String usage() {
        return "loraid " + name() + " [--quick] [--out DIR] [--base FILE] [--device DEVICE] | --rebuild-base [--out DIR] | --check";
    }

    @Override
    String helpHeader() {
        return summary();
    }

    @Override
    int run(CommandLine line, PrintStream out, PrintStream err) throws Exception {
        CliArgs.noArguments(line);
        Device device = CliArgs.device(line, err);
        if (line.hasOption("check")) {
            return check(out, device);
        }
        Path dir = line.hasOption("out") ? CliArgs.path(line, "out") : Path.of("demo-out");
        Reporter reporter = new Reporter() {
            @Override
            public void info(String message) {
                out.println(message);
            }

            @Override
            public void warn(String message) {
                err.println("warning: " + message);
            }
        };
        if (line.hasOption("rebuild-base")) {
            Path base = dir.resolve("base").resolve(BASE_RESOURCE);
            DemoBase.rebuild(dir.resolve("base").resolve("work"), base, DemoBase.EPOCHS, device, reporter);
            out.println("to ship it: cp " + base + " cli/src/main/resources/dev/loraid/cli/demo/" + BASE_RESOURCE
                    + "  (or run: loraid demo --base " + base + ")");
            return 0;
        }
        Path base = line.hasOption("base") ? CliArgs.path(line, "base") : null;
        if (base == null) {
            Files.createDirectories(dir.resolve("work"));
            base = dir.resolve("work").resolve(BASE_RESOURCE);
            Files.deleteIfExists(base);
            extract(dir.resolve("work"), BASE_RESOURCE);
        }
        out.println("loraid demo: three characters (zorp, blix, quen) the base model has never seen, each trained as a LORAID on "
                + "its own 2 of 6 blocks and as an ordinary LoRA on all blocks, then combined" + (line.hasOption("quick")
                ? " (--quick: fewer pictures, epochs and steps)" : ""));
        LoraidDemo.Result r = LoraidDemo.run(new LoraidDemo.Options(base, dir, line.hasOption("quick"), device), reporter);
        out.println();
        DemoTable.format(r.rows()).forEach(out::println);
        out.println();
        out.println("(presence: 1.00 = one character as drawn in training; * = named by the prompt; recognised: mean of "
                + "min(1, presence) over named characters; leak: presence of characters not named)");
        out.println();
        r.interference().forEach(out::println);
        out.println();
        out.println("(validation loss on held-out pictures of each character: the base, its LoRA alone, all three LoRAs; "
                + "gain kept = (base − all three) / (base − alone), 100% = combining costs that character nothing)");
        out.println("wrote " + r.grid() + ", " + r.animation() + ", " + r.table() + ", LoRA files under " + dir.resolve("loras"));
        return 0;
    }

    /** The golden-parity checks (the former {@code loraid demo}). */
    private static int check(PrintStream out, Device device) throws IOException {
        out.println("device: " + device);
        Path dir = Files.createTempDirectory("loraid-demo");
        try {
            Path weights = extract(dir, "wan_tiny_weights.safetensors");
            boolean ok = runCase(out, device, weights, extract(dir, "wan_tiny_forward.safetensors"), WanPresets.TINY,
                    "Wan 2.1, t = 500");
            ok &= runCase(out, device, weights, extract(dir, "wan_tiny_forward_v22.safetensors"), WanPresets.TINY_V22,
                    "Wan 2.2, per-token t (frame 0 at t = 0)");
            ok &= loraCase(out, device, dir, weights);
            ok &= loraidCase(out, device, dir, weights);
            out.println(ok ? "demo: OK — every output matches its reference within 1e-4"
                    : "demo: FAILED — an output differs from the reference");
            return ok ? 0 : 1;
        } finally {
            deleteTree(dir);
        }
    }

    private static boolean runCase(PrintStream out, Device device, Path weights, Path golden, WanConfig config, String title)
            throws IOException {
        long t0 = System.nanoTime();
        try (WanCheckpoint ck = WanCheckpoint.open(weights, config); SafetensorsFile ref = SafetensorsFile.open(golden)) {
            WanModel model = ck.model(device);
            long t1 = System.nanoTime();
            WanInputs in = WanInputs.of(ref.tensor("x"), ref.tensor("t"), ref.tensor("context"));
            Tensor got = model.forward(in);
            long t2 = System.nanoTime();
            model.forward(in); // again, with the kernels compiled: the steady-state figure
            long t3 = System.nanoTime();
            double[] worst = maxError(ref.tensor("output").toDoubleArray(), got.toDoubleArray());
            out.println(title + ": " + config.describe());
            out.printf(Locale.ROOT, "  %d parameters, %d tokens; load %.1f ms, forward %.1f ms (first call) / %.1f ms; "
                    + "output %s, max abs error %.2e (tolerance %.0e + %.0e·|ref|)%n", config.parameterCount(),
                    in.tokens(config), (t1 - t0) / 1e6, (t2 - t1) / 1e6, (t3 - t2) / 1e6, got.shape(), worst[0],
                    ATOL, RTOL);
            return worst[1] == 0;
        }
    }

    /** lora_tiny attached at multiplier 0.8 against the reference forward of the merged model. */
    private static boolean loraCase(PrintStream out, Device device, Path dir, Path weights) throws IOException {
        Path lora = extract(dir, "lora_tiny.safetensors");
        try (WanCheckpoint ck = WanCheckpoint.open(weights, WanPresets.TINY);
             SafetensorsFile ref = SafetensorsFile.open(extract(dir, "lora_merged_forward.safetensors"))) {
            WanModel model = ck.model(device);
            LoraNetwork net = LoraNetwork.attach(model, LoraWeights.of(LoraFiles.read(lora), Reporter.SILENT), 0.8);
            long t0 = System.nanoTime();
            Tensor got = model.forward(WanInputs.of(ref.tensor("x"), ref.tensor("t"), ref.tensor("context")));
            long t1 = System.nanoTime();
            double[] worst = maxError(ref.tensor("output").toDoubleArray(), got.toDoubleArray());
            out.printf(Locale.ROOT, "LoRA (rank 4, %d modules) applied at 0.8: forward %.1f ms, max abs error %.2e "
                    + "vs the reference forward of the merged model%n", net.adapters().size(), (t1 - t0) / 1e6, worst[0]);
            return worst[1] == 0;
        }
    }

    /** Two LORAID LoRAs on blocks 0–1 and 2–3 applied together, against the offline merge of both. */
    private static boolean loraidCase(PrintStream out, Device device, Path dir, Path weights) throws IOException {
        Path id1 = extract(dir, "lora_id1.safetensors");
        Path id2 = extract(dir, "lora_id2.safetensors");
        try (SafetensorsFile ref = SafetensorsFile.open(dir.resolve("wan_tiny_forward.safetensors"));
             WanCheckpoint base = WanCheckpoint.open(weights, WanPresets.TINY);
             WanCheckpoint merged = WanCheckpoint.open(extract(dir, "lora_id_merged_weights.safetensors"),
                     WanPresets.TINY)) {
            WanInputs in = WanInputs.of(ref.tensor("x"), ref.tensor("t"), ref.tensor("context"));
            WanModel model = base.model(device);
            LoraNetwork a = LoraNetwork.attach(model, LoraWeights.of(LoraFiles.read(id1), Reporter.SILENT), 1.0);
            LoraNetwork b = LoraNetwork.attach(model, LoraWeights.of(LoraFiles.read(id2), Reporter.SILENT), 0.7);
            Tensor got = model.forward(in);
            double[] worst = maxError(merged.model(device).forward(in).toDoubleArray(), got.toDoubleArray());
            out.printf(Locale.ROOT, "LORAID: LoRA 1 on blocks 0–1 (%d modules, x1.0) + LoRA 2 on blocks 2–3 (%d modules, "
                    + "x0.7): max abs error %.2e vs the model with both merged offline%n", a.adapters().size(),
                    b.adapters().size(), worst[0]);
            return worst[1] == 0;
        }
    }

    /** {max abs error, number of elements beyond the tolerance}. */
    private static double[] maxError(double[] ref, double[] got) {
        double max = 0;
        double bad = 0;
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs(ref[i] - got[i]);
            max = Math.max(max, Double.isNaN(err) ? Double.POSITIVE_INFINITY : err);
            if (!(err <= ATOL + RTOL * Math.abs(ref[i]))) {
                bad++;
            }
        }
        return new double[] {max, bad};
    }

    /** Copies a bundled resource to {@code dir} (the reader memory-maps files, not jar entries). */
    private static Path extract(Path dir, String name) throws IOException {
        try (InputStream in = DemoCommand.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IOException("resource " + RESOURCES + name + " is missing from the loraid jar");
            }
            Path p = dir.resolve(name);
            Files.copy(in, p);
            return p;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
