package dev.loraid.cli;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.json.JsonWriter;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.OutputSet;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import dev.loraid.wan.WanCheckpoint;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanInputs;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanTaps;
import dev.loraid.wan.WanVariant;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code loraid wan-forward --dit MODEL --inputs IN --out OUT}: one DiT call, for parity checks against other
 * implementations on the user's own weights (issue 5). IN holds {@code x} [in_dim, F, H, W], {@code t} [1] (or one
 * per token for Wan 2.2), {@code context} [L ≤ text_len, text_dim], and optionally {@code y} (I2V conditioning,
 * concatenated after x); OUT receives {@code out} [out_dim, F, H, W] F32. {@code --device} picks where the model
 * runs (its weights are copied there once; the results come back to the host to be written).
 */
public final class WanForwardCommand extends OptionsCommand {
    @Override
    public String name() {
        return "wan-forward";
    }

    @Override
    public String summary() {
        return "run one Wan DiT forward pass on inputs from a safetensors file";
    }

    @Override
    Options options() {
        Options options = new Options();
        options.addOption(Option.builder().longOpt("dit").hasArg().argName("MODEL")
                .desc("Wan DiT checkpoint: .safetensors file, one shard of a set, an index, or a folder").build());
        options.addOption(Option.builder().longOpt("inputs").hasArg().argName("IN")
                .desc("safetensors with x [C, F, H, W], t [1] or [tokens], context [L, text_dim], optional y").build());
        options.addOption(Option.builder().longOpt("out").hasArg().argName("OUT")
                .desc("safetensors to write: out [out_dim, F, H, W] F32").build());
        options.addOption(Option.builder().longOpt("intermediates")
                .desc("also write the named intermediates (tokens, e, e0, context_emb, blockN.out, head_out …; "
                        + "large for real models) to OUT, to find where two implementations diverge").build());
        options.addOption(CliArgs.deviceOption());
        options.addOption(CliArgs.allowNonFinite());
        options.addOption(Option.builder().longOpt("variant").hasArg().argName("NAME")
                .desc("check the model against this preset (e.g. t2v-1.3B) instead of inferring its config").build());
        return options;
    }

    @Override
    String usage() {
        return "loraid " + name() + " --dit MODEL --inputs IN --out OUT";
    }

    @Override
    String helpHeader() {
        return summary();
    }

    @Override
    int run(CommandLine line, PrintStream out, PrintStream err) throws Exception {
        Path dit = requiredPath(line, "dit");
        Path inputs = requiredPath(line, "inputs");
        Path outPath = requiredPath(line, "out");
        WanConfig preset = line.hasOption("variant") ? CliArgs.preset(line.getOptionValue("variant")) : null;
        Device device = CliArgs.device(line, err);
        // the output is checked before the model is loaded, not after the forward pass
        OutputSet.checkFolders(Map.of("--out", outPath));
        for (Path in : new Path[] {dit, inputs}) {
            if (outPath.toAbsolutePath().normalize().equals(in.toAbsolutePath().normalize())) {
                throw new UsageException("--out " + outPath + " is also an input; write to another file");
            }
        }

        long t0 = System.nanoTime();
        try (WanCheckpoint ck = WanCheckpoint.open(dit, preset); SafetensorsFile in = SafetensorsFile.open(inputs)) {
            WanConfig config = ck.config();
            out.println("model: " + ck.describe());
            out.println("config: " + config.describe() + " " + variantNames(config));
            out.println("device: " + device);
            WanModel model = ck.model(device);
            WanInputs wanInputs = readInputs(in, inputs);
            wanInputs.validate(config, inputs.toString());
            long t1 = System.nanoTime();
            Map<String, Tensor> written = new LinkedHashMap<>();
            WanTaps taps = !line.hasOption("intermediates") ? WanTaps.NONE : (name, t) -> {
                try (MemoryScope keep = MemoryScope.suspend()) {
                    written.put(name, t.to(DType.F32).to(Device.CPU).copy());
                }
            };
            Tensor result = model.forward(wanInputs, taps);
            long t2 = System.nanoTime();
            written.remove("output");
            written.put("out", result.to(DType.F32).to(Device.CPU));
            SafetensorsWriter.write(outPath, written,
                    Map.of("config", JsonWriter.compact(config.toMap()), "source", dit.getFileName().toString()));
            out.printf(Locale.ROOT, "tokens %d, load %.2f s, forward %.2f s → %s out %s%n", wanInputs.tokens(config),
                    (t1 - t0) / 1e9, (t2 - t1) / 1e9, outPath, result.shape());
        }
        return 0;
    }

    /** The value of a required path option; an empty value counts as missing. */
    private static Path requiredPath(CommandLine line, String option) {
        String v = line.getOptionValue(option);
        if (v == null || v.isBlank()) {
            throw new UsageException("missing --" + option);
        }
        return Path.of(v);
    }

    /** " (t2v-14B / t2i-14B)", or "" for a config that is not a released variant. */
    static String variantNames(WanConfig c) {
        var names = WanPresets.matching(c).stream().map(WanVariant::name).toList();
        return names.isEmpty() ? "(no released variant)" : "(" + String.join(" / ", names) + ")";
    }

    private static WanInputs readInputs(SafetensorsFile in, Path path) {
        for (String required : new String[] {"x", "t", "context"}) {
            if (!in.contains(required)) {
                throw new IllegalArgumentException(path + ": no tensor '" + required + "': expected x [in_dim, F, H, W], "
                        + "t [1] (or one per token), context [L, text_dim], optionally y; found " + in.names());
            }
        }
        return new WanInputs(in.tensor("x"), in.tensor("t"), in.tensor("context"),
                in.contains("y") ? in.tensor("y") : null, in.contains("clip_fea") ? in.tensor("clip_fea") : null);
    }
}
