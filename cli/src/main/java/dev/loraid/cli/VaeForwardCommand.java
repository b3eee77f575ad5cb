package dev.loraid.cli;

import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.OutputSet;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import dev.loraid.wan.vae.LatentStats;
import dev.loraid.wan.vae.VaeCheckpoint;
import dev.loraid.wan.vae.WanVae;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code loraid vae-forward --vae W --inputs IN --out OUT}: the Wan VAE (spec vae-t5.md §1, §2 for 2.2) on the user's own
 * weights, for parity checks. IN may hold {@code input_video} [3, F, H, W] in [-1, 1] (→ {@code mu_raw},
 * {@code log_var}, {@code latent}) and/or {@code dec_input_latent} [z, F, h, w], a normalised latent
 * (→ {@code decoded_raw}, {@code decoded} = clamp to [-1, 1]); optional {@code latents_mean} / {@code latents_std}
 * [z] replace the built-in Wan 2.1 vectors. The VAE runs on {@code --device} (default cpu); results are written from
 * the host.
 */
public final class VaeForwardCommand extends OptionsCommand {
    @Override
    public String name() {
        return "vae-forward";
    }

    @Override
    public String summary() {
        return "run the Wan VAE (2.1, or 2.2 TI2V-5B by its weights; encode and/or decode) on tensors from a safetensors file";
    }

    @Override
    Options options() {
        Options options = new Options();
        options.addOption(Option.builder().longOpt("vae").hasArg().argName("W")
                .desc("VAE weights: Wan2.1_VAE.pth or wan_2.1_vae.safetensors").build());
        options.addOption(Option.builder().longOpt("inputs").hasArg().argName("IN")
                .desc("safetensors with input_video [3, F, H, W] and/or dec_input_latent [z, F, h, w]; optional "
                        + "latents_mean, latents_std [z]").build());
        options.addOption(Option.builder().longOpt("out").hasArg().argName("OUT")
                .desc("safetensors to write: mu_raw, log_var, latent and/or decoded_raw, decoded (F32)").build());
        options.addOption(CliArgs.deviceOption());
        options.addOption(CliArgs.allowNonFinite());
        return options;
    }

    @Override
    String usage() {
        return "loraid " + name() + " --vae W --inputs IN --out OUT";
    }

    @Override
    String helpHeader() {
        return summary();
    }

    @Override
    int run(CommandLine line, PrintStream out, PrintStream err) throws Exception {
        Path weights = requiredPath(line, "vae");
        Path inputs = requiredPath(line, "inputs");
        Path outPath = requiredPath(line, "out");
        OutputSet.checkFolders(Map.of("--out", outPath)); // before the model is read
        Device device = CliArgs.device(line, err);
        long t0 = System.nanoTime();
        try (VaeCheckpoint ck = VaeCheckpoint.open(weights); SafetensorsFile in = SafetensorsFile.open(inputs)) {
            out.println("model: " + ck.describe());
            out.println("config: " + ck.config());
            out.println("device: " + device);
            boolean enc = in.contains("input_video");
            boolean dec = in.contains("dec_input_latent");
            if (!enc && !dec) {
                throw new IllegalArgumentException(inputs + ": neither 'input_video' [3, F, H, W] nor 'dec_input_latent' "
                        + "[z, F, h, w]; found " + in.names());
            }
            if (in.contains("latents_mean") != in.contains("latents_std")) {
                throw new IllegalArgumentException(inputs + ": latents_mean and latents_std come together; found " + in.names());
            }
            LatentStats stats = in.contains("latents_mean")
                    ? LatentStats.of(in.tensor("latents_mean"), in.tensor("latents_std"))
                    : LatentStats.builtIn(ck.config().zDim());
            if (stats.channels() != ck.config().zDim()) {
                throw new IllegalArgumentException("latent mean/std have " + stats.channels() + " channels but the VAE's z_dim is "
                        + ck.config().zDim() + (in.contains("latents_mean") ? "" : ": give latents_mean and latents_std in --inputs"));
            }
            WanVae vae = ck.model(device);
            Map<String, Tensor> written = new LinkedHashMap<>();
            long t1 = System.nanoTime();
            if (enc) {
                WanVae.Encoded e = vae.encode(in.tensor("input_video"));
                written.put("mu_raw", e.mu().to(Device.CPU));
                written.put("log_var", e.logVar().to(Device.CPU));
                written.put("latent", stats.normalize(e.mu()).to(Device.CPU));
                out.println("encode: input_video " + in.tensor("input_video").shape() + " → latent " + e.mu().shape());
            }
            if (dec) {
                Tensor raw = vae.decode(stats.denormalize(in.tensor("dec_input_latent")), null);
                written.put("decoded_raw", raw.to(Device.CPU));
                written.put("decoded", WanVae.clamp(raw).to(Device.CPU));
                out.println("decode: dec_input_latent " + in.tensor("dec_input_latent").shape() + " → decoded " + raw.shape());
            }
            long t2 = System.nanoTime();
            SafetensorsWriter.write(outPath, written, Map.of("config", ck.config().toString(),
                    "source", weights.getFileName().toString()));
            out.printf(Locale.ROOT, "load %.2f s, vae %.2f s → %s %s%n", (t1 - t0) / 1e9, (t2 - t1) / 1e9, outPath,
                    written.keySet());
        }
        return 0;
    }

    private static Path requiredPath(CommandLine line, String option) {
        String v = line.getOptionValue(option);
        if (v == null || v.isBlank()) {
            throw new UsageException("missing --" + option);
        }
        return Path.of(v);
    }
}
