package dev.loraid.core.plan;

import dev.loraid.wan.WanKeys;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The modules a LoRA can adapt inside a DiT's blocks: every weight of rank ≥ 2 under {@code blocks.N.} (Linears and
 * convolutions; norms and modulation vectors are 1-D or not {@code .weight}), as module paths, in the order given.
 * One rule for a checkpoint's weights and for a preset's expected keys, so {@code plan --dit} and
 * {@code plan --model} list the same modules for the same architecture.
 */
public final class BlockModules {
    private BlockModules() {
    }

    /** @param shapes weight name (prefixed or not) → shape, in the order to list */
    public static List<String> of(Map<String, long[]> shapes) {
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String name = WanKeys.stripPrefix(e.getKey());
            if (name.endsWith(".weight") && e.getValue().length >= 2 && BlockCount.blockOf(name) >= 0) {
                out.add(name.substring(0, name.length() - ".weight".length()));
            }
        }
        return out;
    }
}
