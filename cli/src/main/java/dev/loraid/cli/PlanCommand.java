package dev.loraid.cli;

import dev.loraid.core.Reporter;
import dev.loraid.core.plan.BlockCount;
import dev.loraid.core.plan.BlockModules;
import dev.loraid.core.plan.LoraidAllocator;
import dev.loraid.core.plan.LoraidSlice;
import dev.loraid.core.plan.ModuleSelector;
import dev.loraid.tensor.json.JsonWriter;
import dev.loraid.tensor.safetensors.TensorSource;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanKeys;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/**
 * {@code loraid plan}: the LORAID block allocation for a real model (spec loraid.md §1, §6.3). The block count comes
 * from the DiT's weights ({@code --dit}), a preset ({@code --model t2v-A14B}) or {@code --num_blocks}; for each ID it
 * prints the block range, the include patterns recorded in metadata and the modules that training would adapt.
 */
final class PlanCommand extends OptionsCommand {
    @Override
    public String name() {
        return "plan";
    }

    @Override
    public String summary() {
        return "show the blocks and modules each LORAID owns in a model";
    }

    @Override
    Options options() {
        Options o = new Options();
        o.addOption(CliArgs.value("dit", "FILE", "Wan DiT checkpoint (file, shard, index or folder): block count and modules from its weights"));
        o.addOption(CliArgs.value("model", "PRESET", "a Wan preset instead of a file, e.g. t2v-A14B, t2v-1.3B, i2v-14B, ti2v-5B"));
        o.addOption(CliArgs.value("num_blocks", "B", "the block count alone (no module list)"));
        o.addOption(CliArgs.value("task", "PRESET", "cross-check the DiT's block count against this preset"));
        o.addOption(CliArgs.value("blocks_per_loraid", "P", "blocks per LORAID (default 12; presets 12, 3, 2, 1)"));
        o.addOption(CliArgs.values("LORAID", "ID", "LORAIDs to show (spaces, commas or repeated); default: every ID that fits"));
        o.addOption(CliArgs.values("loraid", "ID", "alias of --LORAID"));
        o.addOption(CliArgs.values("include_patterns", "REGEX", "training include patterns (whole module name; rescue excluded modules)"));
        o.addOption(CliArgs.values("exclude_patterns", "REGEX", "training exclude patterns (whole module name)"));
        o.addOption(CliArgs.flag("json", "print JSON: one object per LORAID"));
        return o;
    }

    /** Block count and candidate modules of the model named on the command line. */
    private record Model(String source, int blocks, List<String> modules) {
    }

    @Override
    String usage() {
        return "loraid plan (--dit FILE | --model PRESET | --num_blocks B) [--blocks_per_loraid P] [--LORAID ID...]";
    }

    @Override
    String helpFooter() {
        return "LORAID n owns blocks (n-1)*P .. n*P-1 of the model's B blocks; IDs up to floor(B/P) fit.";
    }

    @Override
    int run(CommandLine cl, PrintStream out, PrintStream err) throws Exception {
        CliArgs.noArguments(cl);
        try (CliReporter reporter = new CliReporter(err, false)) {
            Model model = model(cl);
            int p = Optional.ofNullable(CliArgs.integer(cl, "blocks_per_loraid", 1, BlockCount.MAX_BLOCKS)).orElse(LoraidAllocator.DEFAULT_BLOCKS_PER_LORAID);
            int maxId = LoraidAllocator.maxId(model.blocks(), p);
            LoraidAllocator.unusedBlocksWarning(model.blocks(), p).ifPresent(reporter::warn);
            List<Integer> ids = CliArgs.usage(() -> LoraidArgs.loraids(CliArgs.all(cl, "LORAID", "loraid"), 0, reporter));
            if (ids.isEmpty()) {
                ids = new ArrayList<>();
                for (int i = 1; i <= maxId; i++) {
                    ids.add(i);
                }
            }
            List<String> include = CliArgs.patterns(cl, "include_patterns");
            List<String> exclude = CliArgs.patterns(cl, "exclude_patterns");
            List<Map<String, Object>> plans = new ArrayList<>();
            for (int id : ids) {
                LoraidSlice s = LoraidAllocator.slice(id, p, model.blocks());
                List<String> modules = model.modules().isEmpty() ? List.of()
                        : new ModuleSelector(Optional.of(s), include, exclude).select(model.modules(), Reporter.SILENT);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("loraid", (long) id);
                m.put("blocks_per_loraid", (long) p);
                m.put("total_blocks", (long) model.blocks());
                m.put("max_loraid", (long) maxId);
                m.put("start", (long) s.start());
                m.put("end", (long) s.end());
                m.put("include_patterns", s.includePatterns());
                m.put("exclude_patterns", s.excludePatterns());
                m.put("modules", modules);
                plans.add(m);
            }
            if (cl.hasOption("json")) {
                out.println(JsonWriter.pretty(plans.size() == 1 ? plans.getFirst() : plans));
            } else {
                printText(model, p, maxId, plans, out);
            }
        }
        return 0;
    }

    private static Model model(CommandLine cl) throws IOException {
        int given = (cl.hasOption("dit") ? 1 : 0) + (cl.hasOption("model") ? 1 : 0) + (cl.hasOption("num_blocks") ? 1 : 0);
        if (given != 1) {
            throw new UsageException("give exactly one of --dit, --model and --num_blocks");
        }
        Model m;
        if (cl.hasOption("dit")) {
            Path dit = CliArgs.path(cl, "dit");
            try (TensorSource src = TensorSource.open(dit)) {
                Map<String, long[]> shapes = new LinkedHashMap<>();
                for (String n : src.names()) {
                    shapes.put(n, src.info(n).shape().toArray());
                }
                m = new Model(dit.toString(), BlockCount.ofWanDit(src.names(), dit.toString()), BlockModules.of(shapes));
            }
        } else if (cl.hasOption("model")) {
            WanConfig c = CliArgs.preset(cl.getOptionValue("model"));
            List<String> modules = BlockModules.of(WanKeys.expectedShapes(c));
            m = new Model("preset " + cl.getOptionValue("model"), c.numLayers(), modules);
        } else {
            m = new Model("--num_blocks", CliArgs.integer(cl, "num_blocks", 1, BlockCount.MAX_BLOCKS), List.of());
        }
        if (cl.hasOption("task")) {
            BlockCount.checkAgainstConfig(m.blocks(), CliArgs.preset(cl.getOptionValue("task")).numLayers(), cl.getOptionValue("task"));
        }
        return m;
    }

    private static void printText(Model model, int p, int maxId, List<Map<String, Object>> plans, PrintStream out) {
        out.println(model.source() + ": " + model.blocks() + " blocks; " + p + " blocks per LORAID -> " + maxId
                + " LORAID" + (maxId == 1 ? "" : "s") + " fit (1-" + maxId + ")");
        for (Map<String, Object> plan : plans) {
            @SuppressWarnings("unchecked")
            List<String> modules = (List<String>) plan.get("modules");
            out.println("LORAID " + plan.get("loraid") + ": blocks " + plan.get("start") + "-" + plan.get("end")
                    + (modules.isEmpty() ? "" : ", " + modules.size() + " modules"));
            Map<Integer, List<String>> byBlock = new TreeMap<>();
            for (String m : modules) {
                int b = BlockCount.blockOf(m);
                byBlock.computeIfAbsent(b, k -> new ArrayList<>()).add(m.substring(("blocks." + b + ".").length()));
            }
            byBlock.forEach((b, ms) -> out.println("  blocks." + b + ": " + String.join(" ", ms)));
        }
    }
}
