package dev.loraid.core.generate;

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
 */
public record LoraSelection(List<Path> files, List<Double> multipliers, Optional<List<Integer>> loraids,
                            Integer blocksPerLoraid, boolean allowOverlap) {
    public static final LoraSelection NONE = new LoraSelection(List.of(), List.of(), Optional.empty(), null, false);

    public LoraSelection {
        files = List.copyOf(files);
        multipliers = List.copyOf(multipliers);
    }

    public boolean isEmpty() {
        return files.isEmpty();
    }
}
