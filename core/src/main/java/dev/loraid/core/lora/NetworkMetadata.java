package dev.loraid.core.lora;

import dev.loraid.core.plan.LoraidMetadata;
import dev.loraid.core.plan.LoraidSlice;
import dev.loraid.tensor.json.JsonWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;

/**
 * The network part of a trained LoRA's metadata (training.md §5.3, spec loraid.md REQ-META-1/2): module, dim, alpha,
 * dropout, the raw {@code network_args} as upstream stores them (a JSON object of strings; include/exclude patterns as
 * Python list literals, so musubi's readers parse them) and, for a LORAID run, the seven {@code ss_loraid*} keys.
 * The trainer adds its own keys (steps, optimizer, …) and {@link LoraFiles#write} adds the hashes.
 */
public final class NetworkMetadata {
    private NetworkMetadata() {
    }

    /**
     * @param networkArgs the {@code --network_args} values as strings (e.g. {@code rank_dropout=0.1}); include and
     *                    exclude patterns go in as {@link #pythonList} strings
     */
    public static Map<String, String> of(NetworkModule module, int rank, double alpha, double networkDropout, Map<String, String> networkArgs,
            Optional<LoraidSlice> loraid) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("ss_network_module", module.moduleName());
        m.put("ss_network_dim", Integer.toString(rank));
        m.put("ss_network_alpha", Double.toString(alpha));
        m.put("ss_network_dropout", Double.toString(networkDropout));
        if (!networkArgs.isEmpty()) {
            m.put("ss_network_args", JsonWriter.compact(new LinkedHashMap<String, Object>(networkArgs)));
        }
        loraid.ifPresent(s -> m.putAll(LoraidMetadata.of(s)));
        return m;
    }

    /** A Python list literal of strings, as upstream's {@code network_args} carry patterns: {@code ['a', 'b\\.c']}. */
    public static String pythonList(List<String> values) {
        StringJoiner j = new StringJoiner(", ", "[", "]");
        for (String v : values) {
            j.add("'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'");
        }
        return j.toString();
    }
}
