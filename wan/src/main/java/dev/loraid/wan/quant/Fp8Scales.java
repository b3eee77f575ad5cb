package dev.loraid.wan.quant;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;

import java.util.List;

/**
 * musubi's fp8-scaled weights (spec wan.md §3.3): an E4M3 weight [out, in] and a scale that is block-wise along
 * the input ([out, in/64, 1], the default), per output row ([out, 1], when in % 64 ≠ 0) or one number ([1]).
 * Dequantised: {@code W[o, i] = Wq[o, i] · scale[o, i / 64]}.
 */
public final class Fp8Scales {
    /** Key suffix of a weight's scale: {@code blocks.3.ffn.0.scale_weight} for {@code blocks.3.ffn.0.weight}. */
    public static final String SCALE_SUFFIX = ".scale_weight";
    /** Block length along the input dimension. */
    public static final int BLOCK = 64;

    /** What musubi leaves in high precision even inside the blocks (wan.md §3.3). */
    private static final List<String> EXCLUDED = List.of("norm", "patch_embedding", "text_embedding", "time_embedding",
            "time_projection", "head", "modulation", "img_emb");

    private Fp8Scales() {
    }

    /** Whether musubi's fp8 modes quantise this (prefix-stripped) key: the Linear weights inside the blocks. */
    public static boolean isTarget(String key) {
        return key.contains("blocks") && key.endsWith(".weight") && EXCLUDED.stream().noneMatch(key::contains);
    }

    /** {@code t} widened to F32 (outside any memory scope) when it is fp8, else {@code t} itself. */
    public static Tensor widened(Tensor t) {
        if (t.dtype() != DType.F8_E4M3 && t.dtype() != DType.F8_E5M2) {
            return t;
        }
        try (MemoryScope outside = MemoryScope.suspend()) {
            return t.to(DType.F32);
        }
    }

    /**
     * The model config a file carries in its {@code config} metadata (a JSON object), or an empty map; {@code where}
     * names the file in the error.
     */
    public static java.util.Map<String, Object> configMetadata(dev.loraid.tensor.safetensors.TensorSource src, String where) {
        String json = src.metadata().get("config");
        if (json == null) {
            return java.util.Map.of();
        }
        try {
            return dev.loraid.tensor.json.Json.parseObject(json);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(where + ": metadata 'config' is not a JSON object: " + e.getMessage(), e);
        }
    }

    /** Whether {@code scale} is one of the three scale shapes for a weight of shape {@code weight}. */
    public static boolean isValidScaleShape(long[] scale, long[] weight) {
        if (scale.length == 1) {
            return scale[0] == 1;
        }
        if (scale.length == 2) {
            return scale[0] == weight[0] && scale[1] == 1;
        }
        return scale.length == 3 && weight[1] % BLOCK == 0 && scale[0] == weight[0]
                && scale[1] == weight[1] / BLOCK && scale[2] == 1;
    }
}
