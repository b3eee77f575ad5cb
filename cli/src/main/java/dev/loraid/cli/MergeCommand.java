package dev.loraid.cli;

import dev.loraid.core.LoraidException;
import dev.loraid.core.merge.LoraMerger;
import dev.loraid.core.merge.MergePlan;
import dev.loraid.core.merge.MergeRequest;
import dev.loraid.core.plan.BlockCount;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.safetensors.OutputSet;
import dev.loraid.tensor.safetensors.TensorSource;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

/**
 * {@code loraid merge}: validates LoRA files against the base DiT and the LORAID rules, then merges them into a new
 * checkpoint, streaming (spec loraid.md §2, §4). Flag names are the seed's and upstream's.
 */
final class MergeCommand extends OptionsCommand {
    /** Options of LoRA merges that a LyCORIS merge does not take. */
    private static final List<String> LYCORIS_EXCLUDES = List.of("dit_high_noise", "lora_weight_high_noise",
            "save_merged_model_high_noise", "LORAID", "loraid", "include_patterns", "exclude_patterns", "save_dtype", "dit_dtype");

    @Override
    public String name() {
        return "merge";
    }

    @Override
    public String summary() {
        return "merge LoRA / LORAID files into a DiT checkpoint (W += m * alpha/r * up @ down)";
    }

    @Override
    Options options() {
        Options o = new Options();
        o.addOption(CliArgs.value("dit", "FILE", "base DiT checkpoint (file, shard, index or folder)"));
        o.addOption(CliArgs.values("lora_weight", "FILE", "LoRA files (spaces, commas or repeated); combined files apply each part"));
        o.addOption(CliArgs.values("lora_multiplier", "M", "multipliers: none = 1.0, one = for all, else one per LoRA (per LORAID with --LORAID)"));
        o.addOption(CliArgs.values("LORAID", "ID", "apply only the files of these LORAIDs, in this order (IDs from ss_loraid)"));
        o.addOption(CliArgs.values("loraid", "ID", "alias of --LORAID"));
        o.addOption(CliArgs.value("blocks_per_loraid", "P", "blocks per LORAID for files without ss_loraid_blocks_per_loraid (default 12)"));
        o.addOption(CliArgs.value("save_merged_model", "FILE", "output checkpoint (required; written atomically)"));
        o.addOption(CliArgs.value("dit_high_noise", "FILE", "Wan 2.2 A14B high-noise expert"));
        o.addOption(CliArgs.values("lora_weight_high_noise", "FILE", "LoRA files for the high-noise expert (same rules as --lora_weight)"));
        o.addOption(CliArgs.values("lora_multiplier_high_noise", "M", "multipliers for --lora_weight_high_noise"));
        o.addOption(CliArgs.value("save_merged_model_high_noise", "FILE", "output of the high-noise expert"));
        o.addOption(CliArgs.value("save_dtype", "DTYPE", "output dtype of floating tensors: bf16, fp16 or fp32 (default: each base tensor's)"));
        o.addOption(CliArgs.value("dit_dtype", "DTYPE", "alias of --save_dtype"));
        o.addOption(CliArgs.flag("allow_overlap", "downgrade block overlaps between LORAID files to a warning"));
        o.addOption(CliArgs.values("include_patterns", "REGEX", "keep only LoRA keys matching (unanchored search on lora_unet_... keys)"));
        o.addOption(CliArgs.values("exclude_patterns", "REGEX", "drop LoRA keys matching (applied after include)"));
        o.addOption(CliArgs.value("task", "PRESET", "cross-check the DiT's block count against this preset, e.g. t2v-14B"));
        o.addOption(CliArgs.flag("lycoris", "the --lora_weight files are LyCORIS files (LoRA, LoHa, LoKr or full), merged "
                + "tensor by tensor (one expert; not with LORAID ids, patterns or --save_dtype); files with LoHa/LoKr/full "
                + "tensors are taken so without it too"));
        o.addOption(CliArgs.flag("quiet", "no progress bar or info lines"));
        o.addOption(CliArgs.allowNonFinite());
        return o;
    }

    @Override
    String usage() {
        return "loraid merge --dit BASE --lora_weight A [B ...] [--lora_multiplier M ...] "
                + "[--LORAID ID ...] --save_merged_model OUT";
    }

    @Override
    int run(CommandLine cl, PrintStream out, PrintStream err) throws Exception {
        CliArgs.noArguments(cl);
        List<String> loraTokens = CliArgs.files(cl, "lora_weight");
        List<String> highTokens = CliArgs.files(cl, "lora_weight_high_noise");
        if (loraTokens.isEmpty() && highTokens.isEmpty()) {
            throw new UsageException("--lora_weight is required");
        }
        Path base = loraTokens.isEmpty() ? null : CliArgs.requiredPath(cl, "dit");
        Path output = loraTokens.isEmpty() ? null : CliArgs.requiredPath(cl, "save_merged_model");
        Path highBase = CliArgs.path(cl, "dit_high_noise");
        Path highOutput = CliArgs.path(cl, "save_merged_model_high_noise");
        if (!highTokens.isEmpty() && (highBase == null || highOutput == null)) {
            // REQ-MERGE-5: high-noise LoRAs must not be dropped silently
            throw new UsageException("--lora_weight_high_noise needs --dit_high_noise and --save_merged_model_high_noise");
        }
        if (highOutput != null && (highBase == null || highTokens.isEmpty())) {
            throw new UsageException("--save_merged_model_high_noise needs --dit_high_noise and --lora_weight_high_noise");
        }
        Map<String, Path> outputs = new LinkedHashMap<>();
        if (output != null) {
            outputs.put("--save_merged_model", output);
        }
        if (highOutput != null) {
            outputs.put("--save_merged_model_high_noise", highOutput);
        }
        CliArgs.distinctOutputs(outputs);
        OutputSet.checkFolders(outputs); // a wrong output folder fails before any input is read
        if (cl.hasOption("lycoris") || holdsLycoris(cl, loraTokens, highTokens, err)) {
            return lycoris(cl, base, loraTokens, output, out, err);
        }
        // every input of both experts is validated (headers and LoRA files only) before the first long write
        try (CliReporter reporter = new CliReporter(err, cl.hasOption("quiet"));
                MergePlan low = loraTokens.isEmpty() ? null
                        : plan(cl, base, loraTokens, CliArgs.all(cl, "lora_multiplier"), output, "--save_merged_model", reporter);
                MergePlan high = highTokens.isEmpty() ? null
                        : highNoise(highBase, () -> plan(cl, highBase, highTokens, CliArgs.all(cl, "lora_multiplier_high_noise"),
                                highOutput, "--save_merged_model_high_noise", reporter));
                OutputSet set = new OutputSet(outputs)) {
            // both experts' checkpoints appear together or not at all
            List<MergePlan> plans = Stream.of(low, high).filter(Objects::nonNull).toList();
            for (MergePlan p : plans) {
                p.write(set, reporter);
            }
            set.commit();
            for (MergePlan p : plans) {
                reporter.info("merged " + p.adaptedWeights() + " weights into " + p.output());
            }
        }
        return 0;
    }

    /** One expert: validate {@code loraTokens} against {@code base} and schedule the merge. */
    private static MergePlan plan(CommandLine cl, Path base, List<String> loraTokens, List<String> multiplierTokens, Path output,
            String outputFlag, CliReporter reporter) {
        List<Path> loras = LoraidArgs.loraFiles(loraTokens);
        List<Double> multipliers = LoraidArgs.multipliers(multiplierTokens);
        Optional<List<Integer>> ids = CliArgs.loraids(cl, multiplierTokens.size(), reporter);
        if (cl.hasOption("task")) {
            int want = CliArgs.preset(cl.getOptionValue("task")).numLayers();
            try (TensorSource src = TensorSource.open(base)) {
                BlockCount.checkAgainstConfig(BlockCount.ofWanDit(src.names(), base.toString()), want, cl.getOptionValue("task"));
            } catch (IOException e) {
                throw new LoraidException("cannot read base model " + base + ": " + e.getMessage(), e);
            }
        }
        return LoraMerger.plan(new MergeRequest(base, loras, ids, multipliers, CliArgs.integer(cl, "blocks_per_loraid", 1, BlockCount.MAX_BLOCKS),
                cl.hasOption("allow_overlap"), CliArgs.patterns(cl, "include_patterns"), CliArgs.patterns(cl, "exclude_patterns"),
                saveDtype(cl), output), outputFlag, reporter);
    }

    /**
     * The high-noise expert's validation, its errors saying so: messages shared with the low-noise expert name the
     * plain flags (e.g. {@code --lora_multiplier}), which here mean their {@code _high_noise} twins.
     */
    private static MergePlan highNoise(Path highBase, Supplier<MergePlan> plan) {
        try {
            return plan.get();
        } catch (LoraidException e) {
            throw new LoraidException("high-noise expert (--dit_high_noise " + highBase + "): " + CliFlags.message(e), e);
        }
    }

    private static DType saveDtype(CommandLine cl) {
        String v = CliArgs.either(cl, "save_dtype", "dit_dtype");
        if (v == null) {
            return null;
        }
        return switch (v.toLowerCase()) {
            case "bf16", "bfloat16" -> DType.BF16;
            case "fp16", "f16", "float16", "half" -> DType.F16;
            case "fp32", "f32", "float32", "float" -> DType.F32;
            default -> throw new UsageException("--save_dtype must be bf16, fp16 or fp32, got '" + v + "'");
        };
    }

    /**
     * Without --lycoris: whether the files of one DiT, given without the options only LoRA merges take, include a LoHa,
     * LoKr or full file (what train --network_module networks.loha/lokr saves), which then go the --lycoris way with a note.
     */
    private static boolean holdsLycoris(CommandLine cl, List<String> loraTokens, List<String> highTokens, PrintStream err) {
        if (loraTokens.isEmpty() || !highTokens.isEmpty() || LYCORIS_EXCLUDES.stream().anyMatch(cl::hasOption)) {
            return false;
        }
        Path first = dev.loraid.core.lora.LycorisMerge.firstNeedingMerge(LoraidArgs.loraFiles(loraTokens));
        if (first != null && !cl.hasOption("quiet")) {
            err.println(first.getFileName() + " holds LoHa/LoKr/full tensors: the files are merged as with --lycoris");
        }
        return first != null;
    }

    /** --lycoris: LyCORIS files merged into one DiT ({@link dev.loraid.core.merge.LycorisMerger#mergeFile}). */
    private static int lycoris(CommandLine cl, Path base, List<String> loraTokens, Path output, PrintStream out,
            PrintStream err) {
        for (String f : LYCORIS_EXCLUDES) {
            if (cl.hasOption(f)) {
                throw new UsageException("--lycoris merges whole files into one DiT in its own dtypes: not with --" + f);
            }
        }
        if (base == null) {
            throw new UsageException("--lycoris needs --lora_weight, --dit and --save_merged_model");
        }
        List<Path> files = LoraidArgs.loraFiles(loraTokens);
        List<Double> perFile = CliArgs.usage(() -> dev.loraid.core.lora.LycorisMerge.perFile(
                LoraidArgs.multipliers(CliArgs.all(cl, "lora_multiplier")), files.size()));
        try (CliReporter reporter = new CliReporter(err, cl.hasOption("quiet"))) {
            dev.loraid.core.merge.LycorisMerger.mergeFile(base, files, perFile, output, reporter);
        }
        out.println(output);
        return 0;
    }
}
