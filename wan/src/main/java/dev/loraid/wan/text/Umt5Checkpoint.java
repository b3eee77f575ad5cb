package dev.loraid.wan.text;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.TensorSource;
import dev.loraid.wan.quant.Fp8Scales;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A UMT5 text-encoder file opened for use (spec vae-t5.md §3, §4b): Wan's {@code models_t5_umt5-xxl-enc-bf16.pth}
 * (read by the safe {@code torch.save} reader), a safetensors file with the same names, or the Hugging Face /
 * ComfyUI layout ({@code umt5_xxl_fp16.safetensors}, fp8-scaled). Keys are mapped to upstream's names, the config
 * is read off the shapes, and the weights are views of the mapping in their file dtype: nothing is copied except
 * fp8 norm vectors, which the elementwise kernels cannot read (widened to F32, a few KB each). A DiT, VAE or LoRA
 * file is refused with its name. Keep it open while a model uses its weights.
 */
public final class Umt5Checkpoint implements AutoCloseable {
    private final TensorSource source;
    private final Map<String, Tensor> weights;
    private final Umt5Config config;

    private Umt5Checkpoint(TensorSource source, Map<String, Tensor> weights, Umt5Config config) {
        this.source = source;
        this.weights = weights;
        this.config = config;
    }

    /** Opens {@code path} (any file or folder {@link TensorSource#open} reads) and infers the config. */
    public static Umt5Checkpoint open(Path path) throws IOException {
        TensorSource src = TensorSource.open(path);
        try {
            String where = src.describe();
            Map<String, String> names = Umt5Keys.canonical(src.names(), where);
            Map<String, Tensor> weights = new LinkedHashMap<>();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            names.forEach((key, raw) -> {
                Tensor t = src.tensor(raw);
                if (!t.dtype().isFloatingPoint()) {
                    throw new IllegalArgumentException(where + ": " + raw + " has dtype " + t.dtype().safetensorsName()
                            + ": expected a floating-point weight (F32, BF16, F16, F8_E4M3 or F8_E5M2)");
                }
                weights.put(key, readable(key, t));
                shapes.put(key, t.shape().toArray());
            });
            Umt5Config config = Umt5Config.infer(shapes, Fp8Scales.configMetadata(src, where), where);
            Umt5Keys.requireMatches(config, shapes, where);
            return new Umt5Checkpoint(src, weights, config);
        } catch (RuntimeException e) {
            src.close();
            throw e;
        }
    }

    /** Whether the keys of {@code src} are those of a UMT5 encoder in a known layout (header only). */
    public static boolean looksLikeUmt5(TensorSource src) {
        try {
            Map<String, String> names = Umt5Keys.canonical(src.names(), src.describe());
            return names.containsKey(Umt5Config.TOKEN_EMBEDDING) && names.containsKey("blocks.0.attn.q.weight");
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * GEMM operands (Linear weights) and the embedding tables stay as they are (the GEMM and the row gather read every
     * float dtype); fp8 norm weights are widened to F32 once, since the norm kernel reads F32/BF16/F16/F64 only.
     */
    private static Tensor readable(String key, Tensor t) {
        return t.rank() >= 2 ? t : Fp8Scales.widened(t);
    }

    public Umt5Config config() {
        return config;
    }

    /** Upstream key → tensor (views of the file, in its dtype; fp8 scales under {@code <linear>.scale_weight}). */
    public Map<String, Tensor> weights() {
        return java.util.Collections.unmodifiableMap(weights);
    }

    public String describe() {
        return source.describe();
    }

    /** {dtype → {tensor count, bytes}} as stored in the file. */
    public Map<DType, long[]> dtypeMix() {
        Map<DType, long[]> mix = new TreeMap<>();
        for (Tensor t : weights.values()) {
            long[] acc = mix.computeIfAbsent(t.dtype(), d -> new long[2]);
            acc[0]++;
            acc[1] += t.numel() * t.dtype().byteSize();
        }
        return mix;
    }

    /** The encoder over this file's weights (views: keep the checkpoint open while it is used). */
    public Umt5Encoder model() {
        return Umt5Encoder.load(config, weights, source.describe());
    }

    /** The encoder on {@code device}: on the CPU exactly {@link #model()}; on a GPU the weights are copied once. */
    public Umt5Encoder model(Device device) {
        return model().to(device);
    }

    @Override
    public void close() {
        source.close();
    }
}
