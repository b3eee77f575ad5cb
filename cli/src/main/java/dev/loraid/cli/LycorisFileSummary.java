package dev.loraid.cli;

import dev.loraid.core.lora.LycorisModule;
import dev.loraid.tensor.safetensors.TensorSource;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * {@code inspect}'s view of a LyCORIS file (LoHa, LoKr or full modules, perhaps beside LoRA ones): its modules by
 * algorithm and the blocks they touch, read from the header alone, and how to use it ({@code generate --lora_weight}).
 */
final class LycorisFileSummary {
    private LycorisFileSummary() {
    }

    /** The summary, or null when no tensor is of LyCORIS's LoHa, LoKr or full algorithms. */
    static FileSummary of(TensorSource src) {
        if (!LycorisModule.holdsLycoris(src.names())) {
            return null;
        }
        Map<String, String> algorithm = new TreeMap<>();
        for (String name : src.names()) {
            String part = LycorisModule.partOf(name);
            String algo = part == null ? null : LycorisModule.algorithmOf(part);
            if (algo != null) {
                algorithm.put(name.substring(0, name.length() - part.length() - 1), algo);
            }
        }
        Map<String, Integer> counts = new TreeMap<>();
        TreeSet<Integer> blocks = new TreeSet<>();
        algorithm.forEach((module, algo) -> {
            counts.merge(algo, 1, Integer::sum);
            String path = LoraFileSummary.modulePath(module);
            if (path.startsWith("blocks.")) {
                blocks.add(Integer.parseInt(path.split("\\.")[1]));
            }
        });
        StringBuilder head = new StringBuilder("LyCORIS: " + algorithm.size() + " modules (");
        counts.forEach((algo, n) -> head.append(head.charAt(head.length() - 1) == '(' ? "" : ", ").append(n).append(' ')
            .append(algo));
        head.append(")").append(blocks.isEmpty() ? "" : ", blocks " + blocks.first() + ".." + blocks.last());
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("modules", algorithm.size());
        json.put("algorithms", counts);
        json.put("blocks", List.copyOf(blocks));
        return new FileSummary("lycoris", List.of(head.toString(), "merged into the DiT at load by generate --lora_weight FILE "
            + "(as with --lycoris); merge --lora_weight FILE writes that DiT"), json);
    }
}
