package dev.loraid.autograd;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.TensorSource;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
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

    /** The tensors of a safetensors checkpoint (zero-copy views, valid while {@code source} is open). */
    static StateSource of(TensorSource source) {
        Set<String> keys = new LinkedHashSet<>(source.names());
        return new StateSource() {
            @Override
            public Set<String> keys() {
                return keys;
            }

            @Override
            public Tensor get(String key) {
                return source.tensor(key);
            }
        };
    }

    /**
     * The keys of {@code source} that start with {@code prefix}, with the prefix removed (e.g.
     * {@code model.diffusion_model.} in ComfyUI checkpoints); other keys are left out.
     */
    static StateSource stripPrefix(StateSource source, String prefix) {
        Map<String, String> map = new LinkedHashMap<>();
        for (String k : source.keys()) {
            if (k.startsWith(prefix)) {
                map.put(k.substring(prefix.length()), k);
            }
        }
        return new StateSource() {
            @Override
            public Set<String> keys() {
                return map.keySet();
            }

            @Override
            public Tensor get(String key) {
                return source.get(map.get(key));
            }
        };
    }

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
