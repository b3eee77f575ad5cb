package dev.loraid.autograd;

import dev.loraid.tensor.Tensor;

import java.util.Map;
import java.util.Set;

/**
 * Named tensors to load a {@link Module} from: a safetensors file (mmapped), a map, a prefix-stripped view of
 * a checkpoint. {@link #get} may return a view of mapped memory; loading never copies a frozen weight.
 */
public interface StateSource {
    Set<String> keys();

    /** The tensor stored under {@code key}; only called for keys in {@link #keys()}. */
    Tensor get(String key);

    static StateSource of(Map<String, Tensor> tensors) {
        return new StateSource() {
            @Override
            public Set<String> keys() {
                return tensors.keySet();
            }

            @Override
            public Tensor get(String key) {
                return tensors.get(key);
            }
        };
    }
}
