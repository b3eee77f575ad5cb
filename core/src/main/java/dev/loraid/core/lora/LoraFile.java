package dev.loraid.core.lora;

import dev.loraid.tensor.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The raw content of a LoRA safetensors file: tensors by name (sorted, the order files are written in) and the
 * {@code __metadata__} strings. No validation; {@link LoraWeights#of} gives the checked module view.
 *
 * @param source the file (or a description such as {@code lora2 of combined.safetensors}) named in messages
 */
public record LoraFile(String source, SortedMap<String, Tensor> tensors, Map<String, String> metadata) {
    public LoraFile {
        tensors = Collections.unmodifiableSortedMap(new TreeMap<>(tensors));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    public LoraFile withTensors(Map<String, Tensor> newTensors) {
        return new LoraFile(source, new TreeMap<>(newTensors), metadata);
    }

    public LoraFile withMetadata(Map<String, String> newMetadata) {
        return new LoraFile(source, tensors, newMetadata);
    }
}
