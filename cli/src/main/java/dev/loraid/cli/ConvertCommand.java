package dev.loraid.cli;

import dev.loraid.core.LoraidException;
import dev.loraid.core.lora.LoraConverter;
import dev.loraid.core.lora.LoraFile;
import dev.loraid.core.lora.LoraKeys;
import dev.loraid.tensor.safetensors.OutputSet;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/**
 * {@code loraid convert}: musubi ("default", {@code lora_unet_…}) ⇄ diffusers/ComfyUI ("other",
 * {@code diffusion_model.….lora_A.weight}) LoRA layouts (training.md §7).
 */
final class ConvertCommand extends OptionsCommand {
    @Override
    public String name() {
        return "convert";
    }

    @Override
    public String summary() {
        return "convert a LoRA between musubi and diffusers/ComfyUI key layouts";
    }

    @Override
    Options options() {
        Options o = new Options();
        o.addOption(CliArgs.value("input", "FILE", "LoRA to convert"));
        o.addOption(CliArgs.value("output", "FILE", "converted LoRA (written atomically)"));
        o.addOption(CliArgs.value("target", "FORMAT", "'other' (diffusers/ComfyUI) or 'default' (musubi)"));
        o.addOption(CliArgs.value("diffusers_prefix", "PREFIX", "first key segment for 'other' (default diffusion_model)"));
        o.addOption(CliArgs.flag("keep_alpha", "to 'other': write <prefix>.<module>.alpha instead of baking alpha into the factors"));
        o.addOption(CliArgs.flag("quiet", "no info lines"));
        o.addOption(CliArgs.allowNonFinite());
        return o;
    }

    @Override
    String usage() {
        return "loraid convert --input IN --output OUT --target other|default";
    }

    @Override
    String helpFooter() {
        return "To 'other' alpha is baked in (x sqrt(alpha/rank) on both factors) unless --keep_alpha; to 'default' a "
                + "missing alpha becomes the rank.";
    }

    @Override
    int run(CommandLine cl, PrintStream out, PrintStream err) throws Exception {
        Path in = CliArgs.requiredPath(cl, "input");
        Path outPath = CliArgs.requiredPath(cl, "output");
        String target = cl.getOptionValue("target");
        if (!"other".equals(target) && !"default".equals(target)) {
            throw new UsageException("--target must be 'other' or 'default', got " + (target == null ? "nothing" : "'" + target + "'"));
        }
        if (in.toAbsolutePath().normalize().equals(outPath.toAbsolutePath().normalize()) || sameFile(in, outPath)) {
            throw new LoraidException("--output " + outPath + " is the input; write to another file");
        }
        OutputSet.checkFolders(java.util.Map.of("--output", outPath)); // before the input is read
        try (CliReporter reporter = new CliReporter(err, cl.hasOption("quiet"))) {
            LoraFile converted = LoraConverter.convert(in, outPath,
                    "other".equals(target) ? LoraConverter.Format.DIFFUSERS : LoraConverter.Format.MUSUBI,
                    cl.getOptionValue("diffusers_prefix", LoraKeys.DIFFUSERS_PREFIX), cl.hasOption("keep_alpha"), reporter);
            reporter.info("wrote " + outPath + " (" + converted.tensors().size() + " tensors, " + target + " format)");
        }
        return 0;
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.exists(b) && Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }
}
