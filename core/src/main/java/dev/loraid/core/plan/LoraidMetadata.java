package dev.loraid.core.plan;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.tensor.json.JsonWriter;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The LORAID metadata of a LoRA file (spec loraid.md §3): what training writes (REQ-META-1) and what readers
 * parse and check (REQ-META-3). Absent keys are empty, never guessed.
 */
public record LoraidMetadata(OptionalInt loraid, OptionalInt blocksPerLoraid, OptionalInt blockStart,
        OptionalInt blockEnd, OptionalInt totalBlocks) {
    public static final String LORAID = "ss_loraid";
    public static final String INCLUDE_PATTERNS = "ss_loraid_include_patterns";
    public static final String EXCLUDE_PATTERNS = "ss_loraid_exclude_patterns";
    public static final String BLOCKS_PER_LORAID = "ss_loraid_blocks_per_loraid";
    public static final String BLOCK_START = "ss_loraid_block_start";
    public static final String BLOCK_END = "ss_loraid_block_end";
    public static final String TOTAL_BLOCKS = "ss_loraid_total_blocks";

    /** The seven keys training writes for an active LORAID (REQ-META-1), in a stable order. */
    public static Map<String, String> of(LoraidSlice s) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(LORAID, Integer.toString(s.id()));
        m.put(INCLUDE_PATTERNS, JsonWriter.compact(s.includePatterns()));
        m.put(EXCLUDE_PATTERNS, JsonWriter.compact(s.excludePatterns()));
        m.put(BLOCKS_PER_LORAID, Integer.toString(s.blocksPerLoraid()));
        m.put(BLOCK_START, Integer.toString(s.start()));
        m.put(BLOCK_END, Integer.toString(s.end()));
        m.put(TOTAL_BLOCKS, Integer.toString(s.totalBlocks()));
        return m;
    }

    /** True for every key of the LORAID family ({@code ss_loraid} and {@code ss_loraid_*}). */
    public static boolean isLoraidKey(String key) {
        return key.equals(LORAID) || key.startsWith(LORAID + "_");
    }

    /**
     * Parses a file's metadata (REQ-META-3). An {@code ss_loraid} that is not a positive integer is warned about and
     * treated as absent (reference behaviour); a malformed number in the other keys is an error naming the file.
     */
    public static LoraidMetadata read(Map<String, String> metadata, String file, Reporter reporter) {
        OptionalInt id = OptionalInt.empty();
        String raw = metadata.get(LORAID);
        if (raw != null) {
            try {
                int v = Integer.parseInt(raw.strip());
                if (v >= 1) {
                    id = OptionalInt.of(v);
                } else {
                    reporter.warn("invalid ss_loraid '" + raw + "' in " + file + " (not a positive integer): treated as no LORAID");
                }
            } catch (NumberFormatException e) {
                reporter.warn("invalid ss_loraid '" + raw + "' in " + file + ": treated as no LORAID");
            }
        }
        return new LoraidMetadata(id, intKey(metadata, BLOCKS_PER_LORAID, file), intKey(metadata, BLOCK_START, file),
                intKey(metadata, BLOCK_END, file), intKey(metadata, TOTAL_BLOCKS, file));
    }

    private static OptionalInt intKey(Map<String, String> metadata, String key, String file) {
        String v = metadata.get(key);
        if (v == null) {
            return OptionalInt.empty();
        }
        try {
            return OptionalInt.of(Integer.parseInt(v.strip()));
        } catch (NumberFormatException e) {
            throw new LoraidException(file + ": metadata " + key + "='" + v + "' is not an integer");
        }
    }

    /**
     * The slice this file claims in a model of {@code modelBlocks} blocks, checked against the metadata's own range
     * and block count and against an explicitly given {@code --blocks_per_loraid} (REQ-CLI-2, REQ-META-3).
     *
     * @param cliBlocksPerLoraid the flag's value, or null when the user did not give it (default 12 then applies
     *                           only to files without the key)
     */
    public LoraidSlice slice(int modelBlocks, Integer cliBlocksPerLoraid, String file) {
        if (loraid.isEmpty()) {
            throw new IllegalStateException(file + " has no LORAID");
        }
        if (totalBlocks.isPresent() && totalBlocks.getAsInt() != modelBlocks) {
            throw new LoraidException(file + ": LoRA trained on a " + totalBlocks.getAsInt() + "-block model, DiT has "
                    + modelBlocks + " blocks");
        }
        int p;
        if (blocksPerLoraid.isPresent()) {
            p = blocksPerLoraid.getAsInt();
            if (cliBlocksPerLoraid != null && cliBlocksPerLoraid != p) {
                throw new LoraidException(named(file + ": metadata says " + p + " blocks per LORAID but ",
                        param("MergeRequest.blocksPerLoraid"), " is "
                        + cliBlocksPerLoraid));
            }
        } else {
            p = cliBlocksPerLoraid != null ? cliBlocksPerLoraid : LoraidAllocator.DEFAULT_BLOCKS_PER_LORAID;
        }
        LoraidSlice s = LoraidAllocator.slice(loraid.getAsInt(), p, modelBlocks);
        if ((blockStart.isPresent() && blockStart.getAsInt() != s.start())
                || (blockEnd.isPresent() && blockEnd.getAsInt() != s.end())) {
            throw new LoraidException(file + ": metadata range " + text(blockStart) + "–" + text(blockEnd) + " disagrees with LORAID "
                    + s.id() + " at " + p + " blocks per LORAID (blocks " + s.range() + ")");
        }
        return s;
    }

    /** The same metadata with {@code id} as its LORAID (a file assigned an ID by position, REQ-CLI-5). */
    public LoraidMetadata withLoraid(int id) {
        return new LoraidMetadata(OptionalInt.of(id), blocksPerLoraid, blockStart, blockEnd, totalBlocks);
    }

    private static String text(OptionalInt v) {
        return v.isPresent() ? Integer.toString(v.getAsInt()) : "?";
    }
}
