package dev.loraid.cli;

import dev.loraid.tensor.safetensors.TensorInfo;
import dev.loraid.tensor.safetensors.TensorSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code inspect}'s view of a musubi/loraid cache file (training.md §4.5): a latent cache (the latent's frames and size,
 * which conditioning it carries: I2V, Fun-Control, CLIP tokens, one-frame positions) or a text-encoder cache (the UMT5
 * rows), from the header and the few f_indices values.
 */
final class CacheFileSummary {
    private static final Pattern LATENT = Pattern.compile("latents(_image|_control)?_(\\d+)x(\\d+)x(\\d+)_(\\w+)");

    private CacheFileSummary() {
    }

    /** The summary, or null when {@code src} holds neither a latents_* nor a varlen_t5_* tensor. */
    static FileSummary of(TensorSource src) {
        Map<String, Object> json = new LinkedHashMap<>();
        List<String> lines = new ArrayList<>();
        for (String name : src.names()) {
            if (name.startsWith("varlen_t5_")) {
                TensorInfo t = src.info(name);
                lines.add("Text-encoder cache: " + name + " " + t.shape() + " (" + t.shape().dim(0) + " UMT5 rows)");
                json.put("t5", t.shape().toArray());
            }
        }
        for (String name : src.names()) {
            Matcher m = LATENT.matcher(name);
            if (!m.matches()) {
                continue;
            }
            String kind = m.group(1) == null ? "latent" : m.group(1).equals("_image") ? "I2V conditioning (mask + image latents)"
                : "Fun-Control latents";
            long f = Long.parseLong(m.group(2));
            long h = Long.parseLong(m.group(3));
            long w = Long.parseLong(m.group(4));
            TensorInfo t = src.info(name);
            lines.add((lines.isEmpty() ? "Latent cache: " : "  ") + kind + " " + t.shape() + " " + t.dtype().safetensorsName()
                + (m.group(1) == null ? " (" + f + " latent frames = " + ((f - 1) * 4 + 1) + " video frames at "
                    + w * 8 + "x" + h * 8 + " px with Wan 2.1's VAE)" : ""));
            json.put(m.group(1) == null ? "latents" : m.group(1).substring(1), t.shape().toArray());
        }
        if (lines.isEmpty()) {
            return null;
        }
        for (String name : src.names()) {
            if (name.startsWith("clip_")) {
                TensorInfo t = src.info(name);
                lines.add("  CLIP tokens " + t.shape() + " " + t.dtype().safetensorsName()
                    + (t.shape().rank() == 3 ? " (one set per control image: a one-frame cache)" : ""));
                json.put("clip", t.shape().toArray());
            } else if (name.startsWith("f_indices")) {
                long[] positions = java.util.Arrays.stream(src.tensor(name).toDoubleArray()).mapToLong(d -> (long) d).toArray();
                lines.add("  one-frame RoPE positions " + java.util.Arrays.toString(positions)
                    + " (not given to the DiT in training, as upstream)");
                json.put("f_indices", positions);
            }
        }
        return new FileSummary("cache", lines, json);
    }
}
