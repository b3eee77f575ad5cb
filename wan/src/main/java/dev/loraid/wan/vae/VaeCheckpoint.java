package dev.loraid.wan.vae;

import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.TensorSource;
import dev.loraid.wan.text.Umt5Checkpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Wan VAE file opened for use (spec vae-t5.md §4b), 2.1 or 2.2 (TI2V-5B; told apart by the key layout, see
 * {@link VaeConfig}): the official {@code Wan2.1_VAE.pth} / {@code Wan2.2_VAE.pth} (read by the safe
 * {@code torch.save} reader), ComfyUI's {@code wan_2.1_vae.safetensors} (same key names), or either with a
 * {@code vae.} / {@code first_stage_model.} prefix on every key. Recognised by its keys, not its extension; a DiT,
 * text-encoder or other file is refused naming what it looks like. Weights are views of the mapping (fp32 or
 * bf16 as stored); keep the checkpoint open while the model is used.
 */
public final class VaeCheckpoint implements AutoCloseable {
    static final List<String> REQUIRED = List.of("encoder.conv1.weight", "decoder.conv1.weight", "conv1.weight",
        "conv2.weight");
    private static final List<String> PREFIXES = List.of("vae.", "first_stage_model.");

    private final TensorSource source;
    private final Map<String, Tensor> weights;
    private final WanVae model;

    private VaeCheckpoint(TensorSource source, Map<String, Tensor> weights) {
        this.source = source;
        this.weights = weights;
        this.model = model(weights, source.describe());
    }

    public static VaeCheckpoint open(Path path) throws IOException {
        TensorSource src = TensorSource.open(path);
        try {
            return new VaeCheckpoint(src, canonical(src));
        } catch (RuntimeException e) {
            src.close();
            throw e;
        }
    }

    /** The model over an in-memory name → tensor map (tests, converted weights), on the CPU. */
    public static WanVae model(Map<String, Tensor> weights, String where) {
        return model(weights, where, Device.CPU);
    }

    /** The model over an in-memory name → tensor map, its weights copied to {@code device} once (unless the CPU). */
    public static WanVae model(Map<String, Tensor> weights, String where, Device device) {
        return new WanVae(new VaeWeights(weights, where, device));
    }

    private static Map<String, Tensor> canonical(TensorSource src) {
        String where = src.describe();
        List<String> names = src.names();
        String prefix = "";
        for (String p : PREFIXES) {
            if (!names.isEmpty() && names.stream().allMatch(n -> n.startsWith(p))) {
                prefix = p;
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String n : names) {
            out.put(n.substring(prefix.length()), src.tensor(n));
        }
        List<String> missing = REQUIRED.stream().filter(k -> !out.containsKey(k)).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(where + " is not a Wan VAE" + looksLike(src, names) + ": missing "
                + missing + "; first keys: " + names.subList(0, Math.min(5, names.size())));
        }
        for (var e : out.entrySet()) {
            if (!e.getValue().dtype().isFloatingPoint()) {
                throw new IllegalArgumentException(where + ": " + e.getKey() + " has dtype " + e.getValue().dtype()
                    + ", expected a floating-point weight");
            }
        }
        return out;
    }

    private static String looksLike(TensorSource src, List<String> names) {
        if (names.stream().anyMatch(n -> n.matches("(model\\.diffusion_model\\.)?blocks\\.\\d+\\.self_attn\\..*"))) {
            return " (it looks like a Wan DiT: blocks.N.self_attn.*; pass it as the model, not the VAE)";
        }
        if (Umt5Checkpoint.looksLikeUmt5(src)) {
            return " (it looks like the UMT5 text encoder; pass it as the text encoder, not the VAE)";
        }
        if (names.stream().anyMatch(n -> n.contains("lora_"))) {
            return " (it looks like a LoRA)";
        }
        return "";
    }

    /** The model on the CPU, over the mapped weights. */
    public WanVae model() {
        return model;
    }

    /** The model on {@code device}: on the CPU exactly {@link #model()}; elsewhere the weights are copied there once. */
    public WanVae model(Device device) {
        return device.isCpu() ? model : model(weights, source.describe(), device);
    }

    public VaeConfig config() {
        return model.config();
    }

    public String describe() {
        return source.describe();
    }

    @Override
    public void close() {
        source.close();
    }
}
