package dev.loraid.wan;

import dev.loraid.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A Wan DiT state dict: stripped key → tensor, in the file's dtype (views of the mapped file, never copies),
 * including the {@code .scale_weight} tensors of fp8-scaled weights (spec wan.md §3.3).
 */
public final class WanWeights {
    private final Map<String, Tensor> tensors;
    private final String source;

    public WanWeights(Map<String, Tensor> tensors, String source) {
        this.tensors = new LinkedHashMap<>(tensors);
        this.source = source;
    }

    /** The tensor under {@code key}; throws naming the key and the file if it is absent. */
    public Tensor get(String key) {
        Tensor t = tensors.get(key);
        if (t == null) {
            throw new IllegalArgumentException(source + ": missing key " + key);
        }
        return t;
    }

    public boolean contains(String key) {
        return tensors.containsKey(key);
    }

    /** Key → shape, as {@link WanConfigInference} and {@link WanKeyCheck} read them. */
    public Map<String, long[]> shapes() {
        Map<String, long[]> m = new LinkedHashMap<>();
        tensors.forEach((k, v) -> m.put(k, v.shape().toArray()));
        return m;
    }

    public Map<String, Tensor> tensors() {
        return java.util.Collections.unmodifiableMap(tensors);
    }

    /** Where the weights came from (a file name), for messages. */
    public String source() {
        return source;
    }
}
