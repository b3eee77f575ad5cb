package dev.loraid.cli;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.json.JsonWriter;
import dev.loraid.tensor.safetensors.OutputSet;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import dev.loraid.wan.WanTaps;
import dev.loraid.wan.text.Umt5Checkpoint;
import dev.loraid.wan.text.Umt5Config;
import dev.loraid.wan.text.Umt5Encoder;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code loraid t5-forward --t5 W --inputs IN --out OUT}: one UMT5 text-encoder call (spec vae-t5.md §3), for parity
 * checks on the user's own weights. IN holds {@code input_ids} and {@code attention_mask} (integer, [L]); OUT receives
 * {@code hidden_states} [seq_len, dim] F32, trimmed to the real tokens as Wan's text cache stores them
 * ({@code --all-rows} keeps the padding rows: [L, dim]).
 */
public final class T5ForwardCommand extends OptionsCommand {
    @Override
    public String name() {
        return "t5-forward";
    }

    @Override
    public String summary() {
        return "run the UMT5 text encoder on token ids from a safetensors file";
    }

    @Override
    Options options() {
        Options options = new Options();
        options.addOption(Option.builder().longOpt("t5").hasArg().argName("W")
                .desc("UMT5 encoder weights: models_t5_umt5-xxl-enc-bf16.pth, or a safetensors file (Wan or "
                        + "Hugging Face / ComfyUI names, fp8-scaled included)").build());
        options.addOption(Option.builder().longOpt("inputs").hasArg().argName("IN")
                .desc("safetensors with input_ids [L] and attention_mask [L] (I64 or I32)").build());
        options.addOption(Option.builder().longOpt("out").hasArg().argName("OUT")
                .desc("safetensors to write: hidden_states [seq_len, dim] F32").build());
        options.addOption(Option.builder().longOpt("all-rows")
                .desc("write all L rows (padding rows included) instead of the first seq_len = sum(mask)").build());
        options.addOption(Option.builder().longOpt("intermediates")
                .desc("also write relative_bucket, pos_bias_layerN, blockN_out (large for the real model)").build());
        options.addOption(CliArgs.deviceOption());
        return options;
    }

    @Override
    String usage() {
        return "loraid " + name() + " --t5 W --inputs IN --out OUT";
    }

    @Override
    String helpHeader() {
        return summary();
    }

    @Override
    int run(CommandLine line, PrintStream out, PrintStream err) throws Exception {
        Path weights = requiredPath(line, "t5");
        Path inputs = requiredPath(line, "inputs");
        Path outPath = requiredPath(line, "out");
        OutputSet.checkFolders(Map.of("--out", outPath)); // before the model is read
        Device device = CliArgs.device(line);
        long t0 = System.nanoTime();
        try (Umt5Checkpoint ck = Umt5Checkpoint.open(weights); SafetensorsFile in = SafetensorsFile.open(inputs)) {
            Umt5Config config = ck.config();
            out.println("model: " + ck.describe());
            out.println("config: " + config.describe());
            out.println("device: " + device);
            for (String required : new String[] {"input_ids", "attention_mask"}) {
                if (!in.contains(required)) {
                    throw new IllegalArgumentException(inputs + ": no tensor '" + required
                            + "': expected input_ids [L] and attention_mask [L] (integers); found " + in.names());
                }
            }
            Tensor ids = in.tensor("input_ids");
            Tensor mask = in.tensor("attention_mask");
            Umt5Encoder model = ck.model(device);
            long t1 = System.nanoTime();
            Map<String, Tensor> written = new LinkedHashMap<>();
            WanTaps taps = !line.hasOption("intermediates") ? WanTaps.NONE : (name, t) -> {
                if (!name.equals("hidden_states")) {
                    try (MemoryScope keep = MemoryScope.suspend()) {
                        Tensor host = t.to(Device.CPU);
                        written.put(name, host.dtype().isFloatingPoint() ? host.to(DType.F32).contiguous().copy()
                                : host.contiguous().copy());
                    }
                }
            };
            Tensor all = model.forward(ids, mask, taps);
            long seqLen = line.hasOption("all-rows") ? all.size(0) : sum(mask);
            Tensor result = all.narrow(0, 0, seqLen).to(Device.CPU).to(DType.F32).contiguous();
            long t2 = System.nanoTime();
            written.put("hidden_states", result);
            SafetensorsWriter.write(outPath, written, Map.of("config", JsonWriter.compact(config.toMap()),
                    "source", weights.getFileName().toString(), "seq_len", Long.toString(sum(mask))));
            out.printf(Locale.ROOT, "tokens %d (seq_len %d), load %.2f s, forward %.2f s → %s hidden_states %s%n",
                    ids.size(0), sum(mask), (t1 - t0) / 1e9, (t2 - t1) / 1e9, outPath, result.shape());
        }
        return 0;
    }

    private static long sum(Tensor mask) {
        long n = 0;
        for (long i = 0; i < mask.numel(); i++) {
            n += mask.getLong(i);
        }
        return n;
    }

    private static Path requiredPath(CommandLine line, String option) {
        String v = line.getOptionValue(option);
        if (v == null || v.isBlank()) {
            throw new UsageException("missing --" + option);
        }
        return Path.of(v);
    }
}
