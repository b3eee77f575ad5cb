package dev.loraid.core.demo;

import dev.loraid.core.data.WanCacheWriter;
import dev.loraid.core.generate.TextEncoder;
import dev.loraid.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Writes a demo training set as a user would have it: {@code images/} with PNGs and {@code .txt} captions,
 * {@code cache/} in musubi's Wan cache layout ({@link WanCacheWriter}: patch-transform latents, UMT5 embeddings of
 * the caption) and {@code dataset.toml} pointing at both.
 */
final class DemoDataset {
    private DemoDataset() {
    }

    /** Returns the dataset TOML. {@code pngs}: how many of the pictures also get a PNG (the rest only a caption). */
    static Path write(Path dir, List<DemoScenes.Scene> scenes, TextEncoder text, int batchSize, int pngs) throws IOException {
        return write(dir, scenes, text, batchSize, pngs, List.of());
    }

    /**
     * As {@link #write(Path, List, TextEncoder, int, int)}, the TOML also listing the datasets {@code alsoTrainOn}
     * (folders this method wrote before: their {@code images/} and {@code cache/}) as further {@code [[datasets]]}.
     */
    static Path write(Path dir, List<DemoScenes.Scene> scenes, TextEncoder text, int batchSize, int pngs, List<Path> alsoTrainOn)
            throws IOException {
        Path images = Files.createDirectories(dir.resolve("images"));
        Path cache = Files.createDirectories(dir.resolve("cache"));
        Map<String, Tensor> embedded = new HashMap<>();
        for (int i = 0; i < scenes.size(); i++) {
            DemoScenes.Scene s = scenes.get(i);
            String stem = String.format("item%04d", i);
            Picture p = s.render();
            if (i < pngs) {
                ImageIO.write(p.toImage(1), "png", images.resolve(stem + ".png").toFile());
            }
            Files.writeString(images.resolve(stem + ".txt"), s.caption());
            Tensor t5 = embedded.computeIfAbsent(s.caption(), text::encode);
            WanCacheWriter.writeImage(cache, stem, p.width(), p.height(), PatchLatents.encode(p), t5, s.caption());
        }
        Path toml = dir.resolve("dataset.toml");
        List<String> lines = new java.util.ArrayList<>(List.of(
                "# written by loraid demo: " + scenes.size() + " pictures, musubi Wan caches",
                "[general]",
                "resolution = [" + DemoScenes.SIZE + ", " + DemoScenes.SIZE + "]",
                "caption_extension = \".txt\"",
                "batch_size = " + batchSize,
                "enable_bucket = false"));
        for (Path d : java.util.stream.Stream.concat(java.util.stream.Stream.of(dir), alsoTrainOn.stream()).toList()) {
            lines.addAll(List.of("", "[[datasets]]",
                    "image_directory = \"" + d.resolve("images").toAbsolutePath() + "\"",
                    "cache_directory = \"" + d.resolve("cache").toAbsolutePath() + "\"",
                    "num_repeats = 1"));
        }
        lines.add("");
        Files.writeString(toml, String.join("\n", lines));
        return toml;
    }
}
