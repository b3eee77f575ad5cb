package dev.loraid.core.merge;

import dev.loraid.tensor.DType;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One merge of LoRA / LORAID files into a base DiT (spec loraid.md §4, §2); {@link LoraMerger} applies the pairing
 * rules (REQ-CLI-4..6).
 *
 * @param loraids            the LORAIDs to apply (de-duplicated), empty to apply every file
 * @param multipliers        none (all 1.0), one for all, or one per file (per LORAID): {@link dev.loraid.core.lora.LoraPairing#multipliers}
 * @param blocksPerLoraid    blocks per LORAID for files without that metadata, else null
 * @param includeKeyPatterns REQ-MERGE-6 filters on LoRA keys (unanchored search)
 * @param saveDtype          output dtype of floating tensors, or null for each base tensor's own dtype
 */
public record MergeRequest(Path base, List<Path> loras, Optional<List<Integer>> loraids, List<Double> multipliers,
        Integer blocksPerLoraid, boolean allowOverlap, List<String> includeKeyPatterns, List<String> excludeKeyPatterns,
        DType saveDtype, Path output) {
}
