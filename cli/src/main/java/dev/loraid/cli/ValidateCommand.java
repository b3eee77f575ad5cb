package dev.loraid.cli;

import dev.loraid.core.LoraidException;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraInputs;
import dev.loraid.core.merge.LoraMerger;
import dev.loraid.core.merge.MergePlan;
import dev.loraid.core.merge.MergeRequest;
import dev.loraid.core.plan.BlockCount;
import dev.loraid.core.lora.LoraPairing;
import dev.loraid.tensor.safetensors.TensorSource;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/**
 * {@code loraid validate}: the REQ-CLI-5/6 checks of a set of LoRA files (pairing with LORAIDs and multipliers,
 * ranges, duplicates, overlaps) against a DiT or a block count, without merging anything (spec loraid.md §6.3).
 */
final class ValidateCommand extends OptionsCommand {
    @Override
    public String name() {
        return "validate";
    }

    @Override
    public String summary() {
        return "check LoRA / LORAID files against a model and each other (no output file)";
    }

    @Override
    Options options() {
        Options o = new Options();
        o.addOption(CliArgs.values("lora_weight", "FILE", "LoRA files (spaces, commas or repeated)"));
        o.addOption(CliArgs.values("lora_multiplier", "M", "multipliers, as for merge"));
        o.addOption(CliArgs.values("LORAID", "ID", "LORAIDs to apply, as for merge"));
        o.addOption(CliArgs.values("loraid", "ID", "alias of --LORAID"));
        o.addOption(CliArgs.value("blocks_per_loraid", "P", "blocks per LORAID for files without it in metadata (default 12)"));
        o.addOption(CliArgs.value("dit", "FILE", "the DiT: block count from its weights"));
        o.addOption(CliArgs.value("num_blocks", "B", "the block count, when no DiT is given"));
        o.addOption(CliArgs.flag("allow_overlap", "downgrade block overlaps between LORAID files to a warning"));
        return o;
    }

    @Override
    String usage() {
        return "loraid validate --lora_weight A [B ...] (--dit FILE | --num_blocks B) [--LORAID ID ...]";
    }

    @Override
    int run(CommandLine cl, PrintStream out, PrintStream err) throws Exception {
        List<String> tokens = CliArgs.files(cl, "lora_weight");
        if (tokens.isEmpty()) {
            throw new UsageException("--lora_weight is required");
        }
        List<String> multiplierTokens = CliArgs.all(cl, "lora_multiplier");
        Integer perLoraid = CliArgs.integer(cl, "blocks_per_loraid", 1, BlockCount.MAX_BLOCKS);
        if (cl.hasOption("dit") && cl.hasOption("num_blocks")) {
            throw new UsageException("give --dit or --num_blocks, not both");
        }
        try (CliReporter reporter = new CliReporter(err, false)) {
            List<Path> files = LoraidArgs.loraFiles(tokens);
            List<Double> multipliers = LoraidArgs.multipliers(multiplierTokens);
            Optional<List<Integer>> ids = CliArgs.loraids(cl, multiplierTokens.size(), reporter);
            List<LoraPairing.Applied> applied;
            int blocks;
            if (cl.hasOption("dit")) {
                // exactly the checks of merge (LoraMerger.plan: pairing, ranges, shapes against the DiT), without an output
                Path dit = CliArgs.path(cl, "dit");
                try (MergePlan plan = LoraMerger.plan(new MergeRequest(dit, files, ids, multipliers, perLoraid, cl.hasOption("allow_overlap"),
                        List.of(), List.of(), null, null), null, reporter); TensorSource src = TensorSource.open(dit)) {
                    applied = plan.applied();
                    blocks = BlockCount.ofWanDit(src.names(), dit.toString());
                }
            } else {
                try (LoraFiles.Opened opened = new LoraFiles.Opened()) {
                    LoraInputs in = LoraInputs.load(files, opened, List.of(), List.of(), reporter);
                    blocks = blockCount(cl, in);
                    applied = LoraPairing.pair(in.candidates(), ids, multipliers, blocks, perLoraid, cl.hasOption("allow_overlap"), reporter);
                }
            }
            out.println("file | LORAID | blocks | multiplier");
            for (LoraPairing.Applied a : applied) {
                out.println(a.file() + " | " + (a.loraid().isPresent() ? a.loraid().getAsInt() : "-") + " | "
                        + (a.blocks().isEmpty() ? "-" : a.blocks().first() + "-" + a.blocks().last()) + " | " + a.multiplier());
            }
            out.println("ok: " + applied.size() + " LoRA(s) valid for a " + blocks + "-block model");
        }
        return 0;
    }

    /** B from --dit, else --num_blocks, else the files' ss_loraid_total_blocks (REQ-ALLOC-1). */
    private static int blockCount(CommandLine cl, LoraInputs in) throws Exception {
        if (cl.hasOption("num_blocks")) {
            return CliArgs.integer(cl, "num_blocks", 1, BlockCount.MAX_BLOCKS);
        }
        TreeSet<Integer> fromFiles = new TreeSet<>();
        in.candidates().forEach(c -> c.metadata().totalBlocks().ifPresent(fromFiles::add));
        if (fromFiles.size() == 1) {
            return fromFiles.first();
        }
        throw new LoraidException(fromFiles.isEmpty() ? "cannot determine model block count: give --dit or --num_blocks"
                : "the files were trained on models with different block counts " + fromFiles + ": give --dit or --num_blocks");
    }
}
