package dev.loraid.cli;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.safetensors.TensorSource;
import dev.loraid.wan.WanCheckpoint;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanMemoryEstimate;
import dev.loraid.wan.WanPresets;
import dev.loraid.wan.WanVariant;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code inspect}'s view of a Wan DiT checkpoint: the variant and config read off the header, parameter count,
 * dtype mix, and the memory one forward pass at a given video size needs ({@link WanMemoryEstimate}).
 */
final class WanFileSummary {
    private WanFileSummary() {
    }

    /** The summary, or null when {@code src} has no Wan DiT keys at all. */
    static FileSummary of(TensorSource src, int width, int height, int frames) {
        if (!WanCheckpoint.looksLikeWan(src)) {
            return null;
        }
        Map<String, Object> json = new LinkedHashMap<>();
        List<String> lines = new ArrayList<>();
        WanConfig config;
        try {
            config = WanCheckpoint.detect(src, src.describe());
        } catch (IllegalArgumentException e) {
            lines.add("Wan DiT: incomplete or inconsistent: " + e.getMessage());
            json.put("error", e.getMessage());
            return new FileSummary("wan", lines, json);
        }
        List<WanVariant> variants = WanPresets.matching(config);
        String names = variants.isEmpty() ? "not a released variant"
                : String.join(" / ", variants.stream().map(WanVariant::name).toList());
        Map<DType, long[]> mix = WanCheckpoint.dtypeMix(src);
        long bytes = mix.values().stream().mapToLong(acc -> acc[1]).sum();
        List<String> mixText = new ArrayList<>();
        Map<String, Object> mixJson = new LinkedHashMap<>();
        mix.forEach((d, acc) -> {
            mixText.add(d.safetensorsName() + " " + acc[0] + " tensors (" + InspectCommand.bytes(acc[1]) + ")");
            mixJson.put(d.safetensorsName(), Map.of("tensors", acc[0], "bytes", acc[1]));
        });
        lines.add("Wan DiT: " + names + " — " + config.describe());
        lines.add(String.format(Locale.ROOT, "  parameters: %,d; dtypes: %s", config.parameterCount(),
                String.join(", ", mixText)));
        json.put("variants", variants.stream().map(WanVariant::name).toList());
        json.put("config", config.describe());
        json.put("parameters", config.parameterCount());
        json.put("dtypes", mixJson);
        int[] vae = variants.isEmpty() ? new int[] {4, 8, 8} : variants.getFirst().vaeStride();
        try {
            WanMemoryEstimate m = WanMemoryEstimate.of(config, vae, width, height, frames, bytes);
            lines.add(String.format(Locale.ROOT, "  forward at %dx%d, %d frames: latent %d frames, %,d tokens; "
                            + "weights %s (memory-mapped) + fp32 activations ≈ %s (%s through the call, %s peak sub-block) "
                            + "≈ %s", width, height, frames, m.latentFrames(), m.tokens(),
                    InspectCommand.bytes(m.weightBytes()), InspectCommand.bytes(m.activationBytes()),
                    InspectCommand.bytes(m.persistentBytes()), InspectCommand.bytes(m.subBlockBytes()),
                    InspectCommand.bytes(m.totalBytes())));
            json.put("forward_memory", Map.of("width", width, "height", height, "frames", frames,
                    "tokens", m.tokens(), "weight_bytes", m.weightBytes(), "activation_bytes", m.activationBytes(),
                    "total_bytes", m.totalBytes()));
        } catch (IllegalArgumentException e) {
            lines.add("  forward memory: " + e.getMessage());
        }
        return new FileSummary("wan", lines, json);
    }
}
