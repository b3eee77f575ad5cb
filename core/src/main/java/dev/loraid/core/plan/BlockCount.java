package dev.loraid.core.plan;

import dev.loraid.core.LoraidException;
import dev.loraid.wan.WanKeys;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * The number of transformer blocks B of a DiT, from its weight names (spec loraid.md REQ-ALLOC-1): the distinct N
 * with a name starting {@code blocks.N.} (after a {@code model.diffusion_model.} or {@code diffusion_model.}
 * prefix), which must be exactly {0..B−1}.
 */
public final class BlockCount {
    /**
     * The largest block count a flag may give: far above any Wan DiT (40 blocks), and small enough that a plan
     * listing one LORAID per block stays printable (2^31 − 1 ran out of heap).
     */
    public static final int MAX_BLOCKS = 10_000;

    private BlockCount() {
    }

    /** The block index of a (prefix-stripped) weight or module name {@code blocks.N.…}, or −1. */
    public static int blockOf(String name) {
        if (!name.startsWith("blocks.")) {
            return -1;
        }
        int i = "blocks.".length();
        int j = i;
        while (j < name.length() && Character.isDigit(name.charAt(j))) {
            j++;
        }
        if (j == i || j - i > 9 || j >= name.length() || name.charAt(j) != '.') {
            return -1;
        }
        return Integer.parseInt(name.substring(i, j));
    }

    /** B from the weight names; errors if there are no blocks or the indices have gaps. */
    public static int fromWeightNames(Collection<String> weightNames) {
        return fromWeightNames(weightNames, null);
    }

    /**
     * B of a Wan DiT checkpoint ({@code source} names it in errors): refuses a LoRA file, and a checkpoint whose blocks
     * have no {@code self_attn} layers (the UMT5 text encoder also has {@code blocks.N.} weights), before counting.
     */
    public static int ofWanDit(Collection<String> weightNames, String source) {
        if (weightNames.stream().anyMatch(n -> n.contains(".lora_down.") || n.contains(".lora_up.") || n.contains(".lora_A.")
                || n.contains(".lora_B."))) {
            throw new LoraidException(source + ": this is a LoRA file, not a Wan DiT checkpoint");
        }
        int blocks = fromWeightNames(weightNames, source);
        if (weightNames.stream().noneMatch(n -> WanKeys.stripPrefix(n).matches("blocks\\.\\d+\\.self_attn\\..+"))) {
            throw new LoraidException(source + ": not a Wan DiT checkpoint: its blocks have no self_attn layers (a UMT5/T5 text "
                    + "encoder or another model?)");
        }
        return blocks;
    }

    /** {@link #fromWeightNames(Collection)}, its errors naming {@code source} (the checkpoint's path) when not null. */
    public static int fromWeightNames(Collection<String> weightNames, String source) {
        try {
            return count(weightNames);
        } catch (LoraidException e) {
            throw source == null ? e : new LoraidException(source + ": " + e.getMessage(), e);
        }
    }

    private static int count(Collection<String> weightNames) {
        TreeSet<Integer> blocks = new TreeSet<>();
        for (String n : weightNames) {
            int b = blockOf(WanKeys.stripPrefix(n));
            if (b >= 0) {
                blocks.add(b);
            }
        }
        if (blocks.isEmpty()) {
            throw new LoraidException("no 'blocks.N.' weights found: not a Wan DiT checkpoint, cannot determine model block count");
        }
        int count = blocks.last() + 1;
        if (blocks.size() != count) {
            List<Integer> missing = new ArrayList<>();
            for (int b = 0; b < count; b++) {
                if (!blocks.contains(b)) {
                    missing.add(b);
                }
            }
            throw new LoraidException("DiT block indices are not contiguous: missing " + missing);
        }
        return count;
    }

    /** Checks B against a task config's {@code num_layers} (REQ-ALLOC-1). */
    public static void checkAgainstConfig(int blocks, int configLayers, String task) {
        if (blocks != configLayers) {
            throw new LoraidException("task " + task + " has num_layers=" + configLayers + " but the DiT has " + blocks + " blocks");
        }
    }
}
