package dev.loraid.core.plan;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.LoraidException;
import java.util.List;
import java.util.Optional;

/**
 * LORAID block allocation (spec loraid.md §1): ID n with P blocks per ID owns blocks (n−1)·P … n·P−1 of a model
 * with B blocks; B always comes from the model itself (never an assumed 240 — D-01). A slice that leaves the model
 * is rejected, never truncated (D-02, D-03).
 */
public final class LoraidAllocator {
    /** The default of {@code --blocks_per_loraid} (REQ-CLI-2). */
    public static final int DEFAULT_BLOCKS_PER_LORAID = 12;
    /** The sub-modules of a block that a LORAID slice adapts, in pattern order (REQ-ALLOC-4). */
    static final List<String> ADAPTED_PARTS = List.of("self_attn", "cross_attn", "ffn");

    private LoraidAllocator() {
    }

    /** {@code floor(B / P)}: how many IDs fit (REQ-ALLOC-2). */
    public static int maxId(int totalBlocks, int blocksPerLoraid) {
        checkBlocksPerLoraid(totalBlocks, blocksPerLoraid);
        return totalBlocks / blocksPerLoraid;
    }

    /** The slice of {@code id}, or an error naming the valid IDs (REQ-ALLOC-3). */
    public static LoraidSlice slice(int id, int blocksPerLoraid, int totalBlocks) {
        checkBlocksPerLoraid(totalBlocks, blocksPerLoraid);
        if (id < 1) {
            throw new LoraidException("LORAID must be a positive integer, got " + id);
        }
        long start = (long) (id - 1) * blocksPerLoraid;
        long end = (long) id * blocksPerLoraid - 1;
        if (end > totalBlocks - 1) {
            String partial = start <= totalBlocks - 1 ? "; only blocks " + start + "–" + (totalBlocks - 1) + " exist" : "";
            throw new LoraidException("LORAID " + id + " with " + blocksPerLoraid + " blocks per LORAID needs blocks "
                    + start + "–" + end + ", but the model has " + totalBlocks + " blocks (0–" + (totalBlocks - 1) + ")"
                    + partial + "; valid LORAIDs are 1–" + totalBlocks / blocksPerLoraid);
        }
        return new LoraidSlice(id, blocksPerLoraid, totalBlocks, (int) start, (int) end);
    }

    /** The warning for trailing blocks no ID can use when P does not divide B (REQ-ALLOC-3), if any. */
    public static Optional<String> unusedBlocksWarning(int totalBlocks, int blocksPerLoraid) {
        int maxId = maxId(totalBlocks, blocksPerLoraid);
        int firstUnused = maxId * blocksPerLoraid;
        if (firstUnused == totalBlocks) {
            return Optional.empty();
        }
        String blocks = firstUnused == totalBlocks - 1 ? "block " + firstUnused : "blocks " + firstUnused + "–" + (totalBlocks - 1);
        return Optional.of(blocksPerLoraid + " blocks per LORAID does not divide " + totalBlocks + " blocks: " + blocks
                + " belong to no LORAID (valid LORAIDs are 1–" + maxId + ")");
    }

    private static void checkBlocksPerLoraid(int totalBlocks, int blocksPerLoraid) {
        if (totalBlocks < 1) {
            throw new LoraidException("the model has no transformer blocks (B=" + totalBlocks + ")");
        }
        if (blocksPerLoraid < 1 || blocksPerLoraid > totalBlocks) {
            throw new LoraidException(named(param("LoraidAllocator.blocksPerLoraid"), " must be between 1 and "
                    + totalBlocks + ", got " + blocksPerLoraid));
        }
    }
}
