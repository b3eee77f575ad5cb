package dev.loraid.core.plan;

import java.util.ArrayList;
import java.util.List;

/**
 * The contiguous block range {@code [start, end]} (0-based, inclusive) that LORAID {@code id} owns in a model of
 * {@code totalBlocks} blocks at {@code blocksPerLoraid} blocks per ID (spec loraid.md REQ-ALLOC-2). Only
 * {@link LoraidAllocator} creates valid slices.
 */
public record LoraidSlice(int id, int blocksPerLoraid, int totalBlocks, int start, int end) {

    public boolean contains(int block) {
        return block >= start && block <= end;
    }

    /** {@code "12–23"}. */
    public String range() {
        return start + "–" + end;
    }

    /**
     * The include patterns recorded in metadata (REQ-ALLOC-4): per block, ascending,
     * {@code blocks\.b\.self_attn\.}, {@code blocks\.b\.cross_attn\.}, {@code blocks\.b\.ffn\.} — the seed's
     * prefix-anchored form, with the trailing {@code \.} so that block 1 never matches {@code blocks.10.}.
     */
    public List<String> includePatterns() {
        List<String> out = new ArrayList<>(3 * blocksPerLoraid);
        for (int b = start; b <= end; b++) {
            for (String part : LoraidAllocator.ADAPTED_PARTS) {
                out.add("blocks\\." + b + "\\." + part + "\\.");
            }
        }
        return out;
    }

    /** The LORAID exclude patterns: always empty (REQ-ALLOC-4; the metadata key exists for forward compatibility). */
    public List<String> excludePatterns() {
        return List.of();
    }
}
