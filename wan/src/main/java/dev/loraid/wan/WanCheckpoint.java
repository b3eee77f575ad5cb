package dev.loraid.wan;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.TensorSource;
import dev.loraid.wan.quant.Fp8Load;
import dev.loraid.wan.quant.Fp8Scales;


import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A Wan DiT checkpoint opened for use (spec wan.md §3): the files are memory-mapped (single, sharded, index or
 * folder, via {@link TensorSource}), keys lose their ComfyUI prefix, the config is inferred from the shapes (or a
 * chosen preset is checked against them), and the weights are views of the mapping in their file dtype. Nothing
 * of a large checkpoint is copied: only tensors that the kernels cannot read in place (fp8 norms, biases or
 * modulation vectors, a few KB each) are widened to F32. Keep it open while a model uses its weights.
 */
public final class WanCheckpoint implements AutoCloseable {
    private final TensorSource source;
    private final WanWeights weights;
    private final WanConfig config;
    private final Map<String, Object> metadataConfig;

    private WanCheckpoint(TensorSource source, WanWeights weights, WanConfig config, Map<String, Object> meta) {
        this.source = source;
        this.weights = weights;
        this.config = config;
        this.metadataConfig = meta;
    }

    /** Opens {@code path} and infers its config. */
    public static WanCheckpoint open(Path path) throws IOException {
        return open(path, null);
    }

    /**
     * Opens {@code path}; with a {@code preset} the file must match it exactly (every missing, unexpected or
     * mis-shaped key is named), else the config is inferred.
     */
    public static WanCheckpoint open(Path path, WanConfig preset) throws IOException {
        return open(path, preset, Fp8Load.NONE);
    }

    /**
     * As {@link #open(Path, WanConfig)}, the block Linear weights stored in fp8 as {@code fp8} says (musubi's
     * {@code --fp8_base} / {@code --fp8_scaled}, applied at load: the quantised weights are owned copies, half the
     * memory of BF16).
     */
    public static WanCheckpoint open(Path path, WanConfig preset, Fp8Load fp8) throws IOException {
        return open(path, preset, fp8, null);
    }

    /**
     * As {@link #open(Path, WanConfig, Fp8Load)}, each tensor (under its prefix-free key) first passed through
     * {@code atLoad} ({@link Fp8Load#apply(Map, String, java.util.function.BiFunction)}: e.g. LyCORIS updates merged
     * before the weights are quantised); null: none.
     */
    public static WanCheckpoint open(Path path, WanConfig preset, Fp8Load fp8,
            java.util.function.BiFunction<String, Tensor, Tensor> atLoad) throws IOException {
        if (Files.isDirectory(path.resolve(WanVariant.HIGH_NOISE)) || Files.isDirectory(path.resolve(WanVariant.LOW_NOISE))) {
            throw new IOException(path + " holds the two Wan 2.2 A14B experts: give " + path.resolve(WanVariant.HIGH_NOISE)
                    + " or " + path.resolve(WanVariant.LOW_NOISE));
        }
        TensorSource src = TensorSource.open(path);
        try {
            String where = src.describe();
            Map<String, Tensor> tensors = fp8.apply(strippedTensors(src, where), where, atLoad);
            Map<String, Object> meta = Fp8Scales.configMetadata(src, where);
            WanWeights weights = new WanWeights(tensors, where);
            WanConfig config = preset != null ? preset : inferNaming(weights.shapes(), meta, path.getFileName().toString(), where);
            WanKeyCheck.requireMatches(config, weights.shapes(), where);
            return new WanCheckpoint(src, weights, config, meta);
        } catch (RuntimeException e) {
            src.close();
            throw e;
        }
    }

    /** {@link WanConfigInference#infer}, its complaint naming the checkpoint ({@code where}) it is about. */
    private static WanConfig inferNaming(Map<String, long[]> shapes, Map<String, Object> meta, String fileName, String where) {
        try {
            return WanConfigInference.infer(shapes, meta, fileName);
        } catch (IllegalArgumentException e) {
            throw e.getMessage().startsWith(where) ? e : new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }

    /**
     * The config of the DiT in {@code src} from its header alone (no tensor data is read), as {@link #open}
     * infers it; throws saying why when the file is not a complete Wan DiT.
     */
    public static WanConfig detect(TensorSource src, String fileName) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (String raw : src.names()) {
            shapes.put(WanKeys.stripPrefix(raw), src.info(raw).shape().toArray());
        }
        WanConfig config = inferNaming(shapes, Fp8Scales.configMetadata(src, src.describe()), fileName, src.describe());
        WanKeyCheck.requireMatches(config, shapes, src.describe());
        return config;
    }

    /** The prefix-free tensor keys of the checkpoint at {@code path}, from its header alone (what {@link #open} keys by). */
    public static java.util.Set<String> keys(Path path) throws IOException {
        try (TensorSource src = TensorSource.open(path)) {
            java.util.Set<String> keys = new java.util.HashSet<>();
            src.names().forEach(n -> keys.add(WanKeys.stripPrefix(n)));
            return keys;
        }
    }

    /** Whether {@code src} has the key every Wan DiT has (with or without a ComfyUI prefix). */
    public static boolean looksLikeWan(TensorSource src) {
        return src.names().stream().anyMatch(n -> WanKeys.stripPrefix(n).equals("patch_embedding.weight"));
    }

    private static Map<String, Tensor> strippedTensors(TensorSource src, String where) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        Map<String, String> rawOf = new TreeMap<>();
        for (String raw : src.names()) {
            String key = WanKeys.stripPrefix(raw);
            String clash = rawOf.put(key, raw);
            if (clash != null) {
                throw new IllegalArgumentException(where + ": keys " + clash + " and " + raw + " both name " + key);
            }
            Tensor t = src.tensor(raw);
            if (!t.dtype().isFloatingPoint()) {
                throw new IllegalArgumentException(where + ": " + raw + " has dtype " + t.dtype().safetensorsName()
                        + ": expected a floating-point weight (F32, BF16, F16, F8_E4M3 or F8_E5M2)");
            }
            out.put(key, readable(key, t));
        }
        return out;
    }

    /**
     * Linear weights stay as they are (the GEMM reads every float dtype, fp8 included). fp8 vectors (norms,
     * biases, modulation: musubi's plain fp8 files quantise every weight) are widened to F32 once: the
     * elementwise kernels take F32/BF16/F16/F64 only.
     */
    private static Tensor readable(String key, Tensor t) {
        boolean gemmOperand = key.endsWith(".weight") && t.rank() >= 2;
        return gemmOperand ? t : Fp8Scales.widened(t);
    }

    public WanConfig config() {
        return config;
    }

    public WanWeights weights() {
        return weights;
    }

    /** The parsed {@code config} metadata of the file (empty when it has none). */
    public Map<String, Object> metadataConfig() {
        return metadataConfig;
    }

    public String describe() {
        return source.describe();
    }

    /** Tensor count and bytes per dtype, as stored in the file. */
    public Map<DType, long[]> dtypeMix() {
        return dtypeMix(source);
    }

    /** {dtype → {tensor count, bytes}} of {@code src}, from its header. */
    public static Map<DType, long[]> dtypeMix(TensorSource src) {
        Map<DType, long[]> mix = new TreeMap<>();
        for (String raw : src.names()) {
            var info = src.info(raw);
            long[] acc = mix.computeIfAbsent(info.dtype(), d -> new long[2]);
            acc[0]++;
            acc[1] += info.byteSize();
        }
        return mix;
    }

    /** Builds the model over this checkpoint's weights (views: keep the checkpoint open while it is used). */
    public WanModel model() {
        return WanModel.load(config, weights);
    }

    /**
     * Builds the model on {@code device}: on the CPU exactly {@link #model()} (views of the mapping, nothing copied);
     * on a GPU every weight is copied once into device memory in its file dtype (fp8 stays fp8).
     *
     * @throws IllegalStateException when {@code device} cannot be used, saying why (no driver, no GPU, a library)
     */
    public WanModel model(Device device) {
        return model().to(device);
    }

    @Override
    public void close() {
        source.close();
    }
}
