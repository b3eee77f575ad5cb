package dev.loraid.core.lora;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.plan.LoraidAllocator;
import dev.loraid.core.plan.LoraidMetadata;
import dev.loraid.core.plan.LoraidSlice;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code loraid tag} (spec loraid.md §6.3, D-37): gives a LoRA trained without LORAID metadata the keys of
 * REQ-META-1, after checking that every module lies inside the ID's slice. Tensors are kept byte for byte.
 */
public final class LoraidTag {
    private LoraidTag() {
    }

    public static LoraFile tag(LoraFile lora, int loraid, int blocksPerLoraid, int totalBlocks, Reporter reporter) {
        LoraWeights w = LoraWeights.of(lora, reporter);
        String existing = lora.metadata().get(LoraidMetadata.LORAID);
        if (existing != null && !existing.strip().equals(Integer.toString(loraid))) {
            throw new LoraidException(lora.source() + " already has ss_loraid=" + existing + "; refusing to re-tag it as " + loraid);
        }
        LoraidSlice slice = LoraidAllocator.slice(loraid, blocksPerLoraid, totalBlocks);
        LoraidMetadata claimed = LoraidMetadata.read(LoraidMetadata.of(slice), lora.source(), reporter);
        // the pairing's range check: every module inside the slice, none outside the model
        LoraPairing.pair(List.of(new LoraPairing.Candidate(lora.source(), claimed, w.modules().keySet())), Optional.empty(), List.of(),
                totalBlocks, blocksPerLoraid, false, Reporter.SILENT);
        Map<String, String> meta = new LinkedHashMap<>(lora.metadata());
        meta.putAll(LoraidMetadata.of(slice));
        return lora.withMetadata(meta);
    }
}
