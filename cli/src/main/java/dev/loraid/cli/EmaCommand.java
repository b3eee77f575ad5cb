package dev.loraid.cli;

import dev.loraid.core.ema.EmaRequest;
import dev.loraid.core.ema.EmaSchedule;
import dev.loraid.core.ema.EmaTool;
import dev.loraid.core.ema.EpochDiscovery;
import dev.loraid.core.ema.LoraBlend;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/**
 * {@code loraid ema}: post-hoc EMA over a run's epoch files, optional blending of several runs, and individual or
 * combined outputs (spec loraid.md §5, flags §6.2).
 */
final class EmaCommand extends OptionsCommand {
    @Override
    public String name() {
        return "ema";
    }

    @Override
    public String summary() {
        return "post-hoc EMA over epoch checkpoints, blending and packing of several LoRAs";
    }

    @Override
    Options options() {
        Options o = new Options();
        for (int i = 1; i <= EmaRequest.MAX_SERIES; i++) {
            o.addOption(CliArgs.value("lora" + i, "FILE", i == 1 ? "any epoch file (name-NNNNNN.safetensors) of run N; its epochs are found" : null));
            o.addOption(CliArgs.value("output_file_lora" + i, "FILE", i == 1 ? "output of series N" : null));
        }
        o.addOption(CliArgs.value("output_file", "FILE", "the single series' result, or the combined file for several"));
        o.addOption(CliArgs.value("sigma_rel", "S", "power-function EMA width, (0, 0.2887] (default 0.2)"));
        o.addOption(CliArgs.value("beta", "B", "linear EMA: first beta (selects linear mode; default 0.95)"));
        o.addOption(CliArgs.value("beta2", "B", "linear EMA: last beta (default = --beta)"));
        o.addOption(CliArgs.value("average", "B", "cross-LoRA blend factor in [0, 1] (0 = none; 0.5 = plain average of two)"));
        o.addOption(CliArgs.flag("democratic", "democratic instead of intelligent blending"));
        o.addOption(CliArgs.value("conflict_threshold", "T", "intelligent blending: elements further apart stay unblended (default 0.1)"));
        o.addOption(CliArgs.flag("merge_only", "skip epoch discovery and EMA: use the given files as they are"));
        o.addOption(CliArgs.flag("no_sort", "positional files: keep command-line order; discovery: sort by epoch number"));
        o.addOption(CliArgs.value("sort_by", "KEY", "mtime (default) or epoch"));
        o.addOption(CliArgs.value("combine_mode", "MODE", "partitioned (default; namespaced keys) or union (disjoint LoRAs -> one LoRA)"));
        o.addOption(CliArgs.flag("reference_compat", "reproduce the reference tool's numbers (EMA t=k, zero-filled blending)"));
        o.addOption(CliArgs.flag("quiet", "no info lines"));
        o.addOption("v", "verbose", false, "accepted for compatibility");
        o.addOption(CliArgs.allowNonFinite());
        return o;
    }

    @Override
    String usage() {
        return "loraid ema (--lora1 FILE [--lora2 FILE ...] | FILE...) [--output_file OUT] "
                + "[--output_file_loraN OUT] [--sigma_rel S | --beta B [--beta2 B2]] [--average B [--democratic]]";
    }

    @Override
    String helpFooter() {
        return "--lora1..--lora20 and --output_file_lora1..--output_file_lora20 are accepted.";
    }

    @Override
    int run(CommandLine cl, PrintStream out, PrintStream err) throws Exception {
        TreeMap<Integer, Path> series = new TreeMap<>();
        TreeMap<Integer, Path> outputs = new TreeMap<>();
        for (int i = 1; i <= EmaRequest.MAX_SERIES; i++) {
            if (cl.hasOption("lora" + i)) {
                series.put(i, CliArgs.path(cl, "lora" + i));
            }
            if (cl.hasOption("output_file_lora" + i)) {
                outputs.put(i, CliArgs.path(cl, "output_file_lora" + i));
            }
        }
        List<Path> positional = cl.getArgList().stream().map(Path::of).toList();
        EmaSchedule schedule = CliArgs.usage(() -> EmaSchedule.select(CliArgs.number(cl, "sigma_rel"), CliArgs.number(cl, "beta"),
                CliArgs.number(cl, "beta2"), cl.hasOption("reference_compat")));
        EpochDiscovery.SortBy sortBy = switch (cl.getOptionValue("sort_by", "mtime").toLowerCase(Locale.ROOT)) {
            case "mtime" -> EpochDiscovery.SortBy.MTIME;
            case "epoch" -> EpochDiscovery.SortBy.EPOCH;
            default -> throw new UsageException("--sort_by must be mtime or epoch, got '" + cl.getOptionValue("sort_by") + "'");
        };
        String combine = cl.getOptionValue("combine_mode", "partitioned");
        if (!combine.equals("partitioned") && !combine.equals("union")) {
            throw new UsageException("--combine_mode must be partitioned or union, got '" + combine + "'");
        }
        Double average = CliArgs.number(cl, "average", 0, 1);
        Double threshold = CliArgs.number(cl, "conflict_threshold", 0, Double.MAX_VALUE);
        EmaRequest req = new EmaRequest(series, positional, CliArgs.path(cl, "output_file"), outputs, schedule, sortBy,
                cl.hasOption("no_sort"), average == null ? 0 : average,
                cl.hasOption("democratic") ? LoraBlend.Mode.DEMOCRATIC : LoraBlend.Mode.INTELLIGENT,
                threshold == null ? 0.1 : threshold, cl.hasOption("merge_only"), combine, cl.hasOption("reference_compat"));
        CliArgs.usage(() -> {
            EmaTool.validate(req);
            return req;
        });
        try (CliReporter reporter = new CliReporter(err, cl.hasOption("quiet"))) {
            EmaTool.run(req, reporter);
        }
        return 0;
    }
}
