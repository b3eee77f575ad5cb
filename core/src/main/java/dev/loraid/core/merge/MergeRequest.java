package dev.loraid.core.merge;

import dev.loraid.tensor.DType;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * What {@code loraid merge} was asked to do (spec loraid.md §4, §2). Raw list values are passed as the user gave
 * them; {@link LoraMerger} applies the REQ-CLI rules.
 *
 * @param loraids            {@code --LORAID} values (de-duplicated), empty when the flag was absent
 * @param multiplierTokens   {@code --lora_multiplier} values as given
 * @param blocksPerLoraid    {@code --blocks_per_loraid} if given, else null
 * @param includeKeyPatterns REQ-MERGE-6 filters on LoRA keys (unanchored search)
 * @param saveDtype          output dtype of floating tensors, or null for each base tensor's own dtype
 */
public record MergeRequest(Path base, List<Path> loras, Optional<List<Integer>> loraids, List<String> multiplierTokens,
        Integer blocksPerLoraid, boolean allowOverlap, List<String> includeKeyPatterns, List<String> excludeKeyPatterns,
        DType saveDtype, Path output) {
}
