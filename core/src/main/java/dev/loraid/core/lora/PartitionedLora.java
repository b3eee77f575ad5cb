package dev.loraid.core.lora;

import dev.loraid.core.LoraidException;
import dev.loraid.core.plan.LoraidMetadata;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.json.JsonWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The reference's combined "channel-partitioned" file (spec loraid.md REQ-PACK-3, -4): several LoRAs in one file
 * under namespaced keys {@code {name}_{key}}. Despite the name nothing is partitioned (D-34). Packing drops the
 * top-level {@code ss_loraid*} keys inherited from the first series and stores every series' LORAID keys as
 * {@code {name}_ss_loraid…}, plus {@code ss_loraid_list}; {@link #split} turns such a file back into its parts.
 */
public final class PartitionedLora {
    public static final String MERGE_METHOD = "channel_partitioned";
    private static final String PARTITION_TYPE = "namespace_with_channel_assignment";

    private PartitionedLora() {
    }

    /** Packs {@code series} (named {@code names}, e.g. lora1, lora2) into one file. */
    public static LoraFile pack(List<LoraFile> series, List<String> names, double averageBlend, String source) {
        TreeMap<String, Tensor> tensors = new TreeMap<>();
        Map<String, String> meta = new LinkedHashMap<>(series.getFirst().metadata());
        meta.keySet().removeIf(k -> LoraidMetadata.isLoraidKey(k) || k.startsWith("sshs_"));
        meta.put("lora_count", Integer.toString(series.size()));
        meta.put("lora_names", String.join(",", names));
        meta.put("merge_method", MERGE_METHOD);
        meta.put("average_blend", Double.toString(averageBlend));
        meta.put("partition_type", PARTITION_TYPE);
        List<Object> ids = new ArrayList<>();
        for (int i = 0; i < series.size(); i++) {
            String name = names.get(i);
            List<String> keys = new ArrayList<>();
            series.get(i).tensors().forEach((k, t) -> {
                tensors.put(name + "_" + k, t);
                keys.add(name + "_" + k);
            });
            meta.put(name + "_keys", String.join(",", keys));
            meta.put(name + "_original_count", Integer.toString(keys.size()));
            meta.put(name + "_lora_index", Integer.toString(i));
            series.get(i).metadata().forEach((k, v) -> {
                if (LoraidMetadata.isLoraidKey(k)) {
                    meta.put(name + "_" + k, v);
                }
            });
            String id = series.get(i).metadata().get(LoraidMetadata.LORAID);
            ids.add(id == null ? null : parseOrText(id.strip()));
        }
        meta.put("ss_loraid_list", JsonWriter.compact(ids));
        meta.put("merged_loras", String.join(", ", names));
        meta.put("total_tensors", Integer.toString(tensors.size()));
        return new LoraFile(source, tensors, meta);
    }

    private static Object parseOrText(String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            return v;
        }
    }

    public static boolean isPartitioned(Map<String, String> metadata) {
        return MERGE_METHOD.equals(metadata.get("merge_method"));
    }

    /**
     * The virtual LoRA files inside a combined file, in {@code {name}_lora_index} order; each one's metadata is its
     * {@code {name}_}-prefixed metadata with the prefix removed (REQ-PACK-4). Counts are verified.
     */
    public static List<LoraFile> split(LoraFile combined) {
        Map<String, String> meta = combined.metadata();
        String src = combined.source();
        String namesValue = meta.get("lora_names");
        if (namesValue == null || namesValue.isBlank()) {
            throw new LoraidException(src + ": combined LoRA without lora_names metadata");
        }
        List<String> names = new ArrayList<>(List.of(namesValue.split(",")));
        names.replaceAll(String::strip);
        names.sort(Comparator.comparingInt(n -> intKey(meta, n + "_lora_index", src)));
        List<LoraFile> out = new ArrayList<>();
        int total = 0;
        for (String name : names) {
            String prefix = name + "_";
            TreeMap<String, Tensor> tensors = new TreeMap<>();
            combined.tensors().forEach((k, t) -> {
                if (k.startsWith(prefix)) {
                    tensors.put(k.substring(prefix.length()), t);
                }
            });
            int expected = intKey(meta, prefix + "original_count", src);
            if (tensors.size() != expected) {
                throw new LoraidException(src + ": " + name + " has " + tensors.size() + " tensors but " + prefix + "original_count says " + expected);
            }
            total += tensors.size();
            Map<String, String> own = new LinkedHashMap<>();
            meta.forEach((k, v) -> {
                String rest = k.startsWith(prefix) ? k.substring(prefix.length()) : null;
                if (rest != null && !rest.equals("keys") && !rest.equals("original_count") && !rest.equals("lora_index")) {
                    own.put(rest, v);
                }
            });
            out.add(new LoraFile(name + " of " + src, tensors, own));
        }
        int declared = intKey(meta, "total_tensors", src);
        if (total != declared || total != combined.tensors().size()) {
            throw new LoraidException(src + ": total_tensors is " + declared + " but the parts hold " + total + " of "
                    + combined.tensors().size() + " tensors");
        }
        return out;
    }

    private static int intKey(Map<String, String> meta, String key, String src) {
        try {
            return Integer.parseInt(meta.getOrDefault(key, "").strip());
        } catch (NumberFormatException e) {
            throw new LoraidException(src + ": combined LoRA metadata " + key + " is missing or not an integer");
        }
    }
}
