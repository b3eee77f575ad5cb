package dev.loraid.wan.clip;

import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.TensorSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Wan's CLIP file opened for its vision tower: {@code models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth} (read by
 * the safe {@code torch.save} reader; its {@code textual.*} text tower and {@code log_scale} are not read), or a
 * safetensors file with the same names, with or without the {@code visual.} prefix. The config is read off the shapes;
 * the weights are views of the file in its dtype. Another layout (e.g. Hugging Face's {@code vision_model.*}) is
 * refused naming the keys it has. Keep it open while the encoder is used.
 */
public final class ClipCheckpoint implements AutoCloseable {
    private static final String PREFIX = "visual.";

    private final TensorSource source;
    private final Map<String, Tensor> weights;
    private final ClipVisionConfig config;

    private ClipCheckpoint(TensorSource source, Map<String, Tensor> weights, ClipVisionConfig config) {
        this.source = source;
        this.weights = weights;
        this.config = config;
    }

    /** Opens {@code path} (any file {@link TensorSource#open} reads) and infers the config. */
    public static ClipCheckpoint open(Path path) throws IOException {
        TensorSource src = TensorSource.open(path);
        try {
            String where = src.describe();
            boolean prefixed = src.names().contains(PREFIX + "patch_embedding.weight");
            Map<String, Tensor> weights = new LinkedHashMap<>();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            for (String raw : src.names()) {
                if (prefixed && !raw.startsWith(PREFIX)) {
                    continue;
                }
                String key = prefixed ? raw.substring(PREFIX.length()) : raw;
                Tensor t = src.tensor(raw);
                if (!t.dtype().isFloatingPoint()) {
                    throw new IllegalArgumentException(where + ": " + raw + " has dtype " + t.dtype().safetensorsName()
                            + ": expected a floating-point weight");
                }
                weights.put(key, t);
                shapes.put(key, t.shape().toArray());
            }
            if (!shapes.containsKey("patch_embedding.weight")) {
                throw new IllegalArgumentException(where + ": not Wan's CLIP file (no visual.patch_embedding.weight; "
                        + "its first keys: " + String.join(", ", src.names().subList(0, Math.min(4, src.names().size())))
                        + "): give models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth");
            }
            return new ClipCheckpoint(src, weights, ClipVisionConfig.infer(shapes, where));
        } catch (RuntimeException e) {
            src.close();
            throw e;
        }
    }

    public ClipVisionConfig config() {
        return config;
    }

    public String describe() {
        return source.describe();
    }

    /** The encoder over this file's weights (views: keep the checkpoint open while it is used). */
    public ClipVisionEncoder model() {
        return ClipVisionEncoder.load(config, weights, source.describe());
    }

    /** The encoder on {@code device}: on the CPU exactly {@link #model()}; elsewhere the weights are copied once. */
    public ClipVisionEncoder model(Device device) {
        return model().to(device);
    }

    @Override
    public void close() {
        source.close();
    }
}
