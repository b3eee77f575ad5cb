package dev.loraid.core.ema;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraFile;
import dev.loraid.core.plan.LoraidMetadata;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.json.JsonWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code --combine_mode union} (spec loraid.md REQ-PACK-5): LoRAs with pairwise disjoint keys (LORAID LoRAs with
 * different IDs) become one ordinary LoRA holding the union of their keys; applying it equals applying the parts.
 * Metadata: the first series' non-LORAID keys, {@code ss_loraid_list} and {@code ss_loraid_union}; no {@code ss_loraid}.
 */
public final class UnionLora {
    private UnionLora() {
    }

    public static LoraFile union(List<LoraFile> series, List<String> names, String source, Reporter reporter) {
        TreeMap<String, Tensor> tensors = new TreeMap<>();
        Map<String, String> owner = new LinkedHashMap<>();
        for (int i = 0; i < series.size(); i++) {
            for (var e : series.get(i).tensors().entrySet()) {
                String prev = owner.putIfAbsent(e.getKey(), names.get(i));
                if (prev != null) {
                    throw new LoraidException(named(param("EmaRequest.combineMode"),
                            " union needs disjoint LoRAs, but " + prev + " and " + names.get(i)
                            + " both have " + e.getKey() + "; use ", param("EmaRequest.combineMode"), " partitioned"));
                }
                tensors.put(e.getKey(), e.getValue());
            }
        }
        Map<String, String> meta = new LinkedHashMap<>(series.getFirst().metadata());
        meta.keySet().removeIf(k -> LoraidMetadata.isLoraidKey(k) || k.startsWith("sshs_"));
        List<Object> ids = new ArrayList<>();
        List<Object> ranges = new ArrayList<>();
        for (int i = 0; i < series.size(); i++) {
            LoraidMetadata m = LoraidMetadata.read(series.get(i).metadata(), series.get(i).source(), reporter);
            ids.add(m.loraid().isPresent() ? (Object) (long) m.loraid().getAsInt() : null);
            if (m.loraid().isPresent()) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("loraid", (long) m.loraid().getAsInt());
                r.put("start", m.blockStart().isPresent() ? (Object) (long) m.blockStart().getAsInt() : null);
                r.put("end", m.blockEnd().isPresent() ? (Object) (long) m.blockEnd().getAsInt() : null);
                r.put("P", m.blocksPerLoraid().isPresent() ? (Object) (long) m.blocksPerLoraid().getAsInt() : null);
                ranges.add(r);
            }
        }
        meta.put("ss_loraid_list", JsonWriter.compact(ids));
        meta.put("ss_loraid_union", JsonWriter.compact(ranges));
        return new LoraFile(source, tensors, meta);
    }
}
