package dev.loraid.core.data;

import dev.loraid.core.LoraidException;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes one image item in musubi-tuner's Wan cache layout (spec training.md §4.5–4.6), the files
 * {@link CachedDataset} and {@link BatchLoader} read: {@code <stem>_<W>x<H>_wan.safetensors} holding
 * {@code latents_<F>x<H>x<W>_bfloat16} [C, F, H, W] and {@code <stem>_wan_te.safetensors} holding
 * {@code varlen_t5_bfloat16} [L, D], both in BF16 with upstream's metadata keys.
 */
public final class WanCacheWriter {
    private WanCacheWriter() {
    }

    /**
     * @param width   the image's pixel width (the {@code <W>} of the file name, which picks the bucket)
     * @param latents [C, F, H, W] latents of the image
     * @param t5      [L, D] text embeddings of its caption (only the real tokens, as upstream caches them)
     * @return the latent cache file
     */
    public static Path writeImage(Path cacheDir, String stem, int width, int height, Tensor latents, Tensor t5, String caption) {
        if (stem.isEmpty() || stem.contains("/")) {
            throw new IllegalArgumentException("cache stem '" + stem + "': expected a file name without folders");
        }
        if (latents.rank() != 4 || t5.rank() != 2) {
            throw new IllegalArgumentException(stem + ": latents " + latents.shape() + " must be [C, F, H, W] and t5 " + t5.shape()
                    + " [L, D]");
        }
        String size = String.format("%04dx%04d", width, height);
        Path latentFile = cacheDir.resolve(stem + "_" + size + CachedDataset.LATENT_SUFFIX);
        Path textFile = cacheDir.resolve(stem + CachedDataset.TEXT_SUFFIX);
        String key = "latents_" + latents.size(1) + "x" + latents.size(2) + "x" + latents.size(3) + "_bfloat16";
        try {
            Files.createDirectories(cacheDir);
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("architecture", "wan");
            meta.put("width", Integer.toString(width));
            meta.put("height", Integer.toString(height));
            meta.put("format_version", "1.0.1");
            SafetensorsWriter.write(latentFile, Map.of(key, latents.contiguous().to(DType.BF16)), meta);
            SafetensorsWriter.write(textFile, Map.of("varlen_t5_bfloat16", t5.contiguous().to(DType.BF16)),
                    Map.of("architecture", "wan", "caption1", caption, "format_version", "1.0.1"));
        } catch (IOException e) {
            throw new LoraidException("cannot write the cache of " + stem + " in " + cacheDir + ": " + e.getMessage(), e);
        }
        return latentFile;
    }
}
