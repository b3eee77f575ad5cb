package dev.loraid.core.generate;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraKeyFilter;
import dev.loraid.core.lora.LycorisMerge;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The LoRA / LORAID files one expert runs with, attached as adapters at their multipliers after the same checks as a
 * merge (spec loraid.md REQ-CLI-5/6; training.md §6.6 merges instead, with the same formula W + m·(alpha/r)·up@down).
 *
 * @param multipliers     none = 1.0, one = for all, else one per file (per LORAID with IDs)
 * @param loraids          the LORAIDs to apply, empty when none were named
 * @param blocksPerLoraid  blocks per LORAID for files without ss_loraid_blocks_per_loraid, or null
 * @param includePatterns  key patterns (REQ-MERGE-6 search on lora_unet_… keys): none, one for every file, or the i-th
 *                         for the i-th file (upstream's wan_generate_video.py, training.md §6.3)
 * @param excludePatterns  the same for exclusion, applied after the include patterns
 * @param lycoris          LyCORIS files (LoRA, LoHa, LoKr, full), merged into the weights at load as upstream's
 *                         {@code --lycoris} does ({@link dev.loraid.core.lora.LycorisMerge}) instead of attached
 */
public record LoraSelection(List<Path> files, List<Double> multipliers, Optional<List<Integer>> loraids,
                            Integer blocksPerLoraid, boolean allowOverlap, List<String> includePatterns,
                            List<String> excludePatterns, boolean lycoris) {
    public static final LoraSelection NONE = new LoraSelection(List.of(), List.of(), Optional.empty(), null, false);

    /** @throws dev.loraid.core.LoraidException when a pattern list has neither 0, 1 nor one entry per file */
    public LoraSelection {
        files = List.copyOf(files);
        multipliers = List.copyOf(multipliers);
        includePatterns = List.copyOf(includePatterns);
        excludePatterns = List.copyOf(excludePatterns);
        LoraKeyFilter.perFile(files.size(), includePatterns, excludePatterns);
    }

    /** Files attached as adapters. */
    public LoraSelection(List<Path> files, List<Double> multipliers, Optional<List<Integer>> loraids,
                         Integer blocksPerLoraid, boolean allowOverlap, List<String> includePatterns,
                         List<String> excludePatterns) {
        this(files, multipliers, loraids, blocksPerLoraid, allowOverlap, includePatterns, excludePatterns, false);
    }

    /** The same files as LyCORIS files, merged at load. */
    public LoraSelection asLycoris() {
        return new LoraSelection(files, multipliers, loraids, blocksPerLoraid, allowOverlap, includePatterns, excludePatterns,
                true);
    }

    /**
     * This selection, or, when a file holds LoHa, LoKr or full tensors (what {@code train --network_module networks.loha}
     * saves) and no LORAID ids or key patterns are given, the same files merged at load ({@link #asLycoris}): upstream's
     * generation merges such files without {@code --lycoris} too (its {@code detect_network_type}).
     */
    public LoraSelection mergedWhereNeeded(Reporter reporter) {
        if (lycoris || loraids.isPresent() || !includePatterns.isEmpty() || !excludePatterns.isEmpty()) {
            return this;
        }
        Path first = LycorisMerge.firstNeedingMerge(files);
        if (first == null) {
            return this;
        }
        reporter.info(named(first.getFileName() + " holds LoHa/LoKr/full tensors: the files are merged into the DiT at load, as with ",
                param("LoraSelection.lycoris")));
        return asLycoris();
    }

    /** Each file's multiplier (none: 1.0; one: for every file). */
    public List<Double> perFileMultipliers() {
        return LycorisMerge.perFile(multipliers, files.size());
    }

    /** Files without key patterns. */
    public LoraSelection(List<Path> files, List<Double> multipliers, Optional<List<Integer>> loraids,
                         Integer blocksPerLoraid, boolean allowOverlap) {
        this(files, multipliers, loraids, blocksPerLoraid, allowOverlap, List.of(), List.of());
    }

    /** Each file's key filter, in file order. */
    public List<LoraKeyFilter> filters() {
        return LoraKeyFilter.perFile(files.size(), includePatterns, excludePatterns);
    }

    public boolean isEmpty() {
        return files.isEmpty();
    }
}
