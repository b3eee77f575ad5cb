package dev.loraid.core.generate;

import dev.loraid.core.LoraidException;
import dev.loraid.tensor.safetensors.SafetensorsWriter;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@link GenerateResult} under a folder with upstream's names (training.md §6.7; musubi's get_time_flag is
 * {@code %Y%m%d-%H%M%S-<milliseconds>}): the latent as {@code <time>_<seed>_latent.safetensors} (key {@code latent}, the
 * generation parameters as metadata), the images as {@code <time>_<seed>/<time>_<seed>_NNN.png} per frame, or
 * {@code <time>_<seed>_000.png} directly in the folder for a single frame, and the video as {@code <time>_<seed>.mp4}
 * ({@link Mp4Video}). Every file appears atomically (temp file, fsync, rename).
 */
public final class GenerateOutputs {
    public static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS");
    /** Upstream's {@code --fps} default. */
    public static final int DEFAULT_FPS = 16;

    private GenerateOutputs() {
    }

    /** Writes what {@code type} asks for under {@code dir} (created if needed); returns the files written. */
    public static List<Path> save(GenerateResult result, OutputType type, Path dir, LocalDateTime time, int[] vaeStride)
            throws IOException {
        return save(result, type, dir, TIME.format(time) + "_" + result.seed(), vaeStride);
    }

    /** As {@link #save(GenerateResult, OutputType, Path, LocalDateTime, int[])} with the files' common stem given. */
    public static List<Path> save(GenerateResult result, OutputType type, Path dir, String base, int[] vaeStride)
            throws IOException {
        return save(result, type, dir, base, LatentPreview.renderer(vaeStride));
    }

    /** Writes what {@code type} asks for, the frames drawn by {@code frames}, a video at {@link #DEFAULT_FPS}. */
    public static List<Path> save(GenerateResult result, OutputType type, Path dir, String base, FrameRenderer frames)
            throws IOException {
        return save(result, type, dir, base, frames, DEFAULT_FPS);
    }

    /**
     * Writes what {@code type} asks for, the frames drawn by {@code frames} (the VAE's decode or the latent preview)
     * once for both the PNGs and the MP4, the video at {@code fps}.
     */
    public static List<Path> save(GenerateResult result, OutputType type, Path dir, String base, FrameRenderer frames,
            int fps) throws IOException {
        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        if (type.latent()) {
            Path p = dir.resolve(base + "_latent.safetensors");
            Map<String, String> meta = new LinkedHashMap<>(result.metadata());
            meta.put(frames.metadataKey(), frames.description());
            SafetensorsWriter.write(p, Map.of("latent", result.latent()), meta);
            written.add(p);
        }
        List<java.awt.image.BufferedImage> images = type.frames() ? frames.render(result.latent()) : List.of();
        if (type.video()) {
            Path p = dir.resolve(base + ".mp4");
            Mp4Video.write(images, fps, p);
            written.add(p);
        }
        if (type.images()) {
            Path folder = images.size() == 1 ? dir : dir.resolve(base);
            Files.createDirectories(folder);
            for (int i = 0; i < images.size(); i++) {
                int f = i;
                Path p = folder.resolve(String.format("%s_%03d.png", base, f));
                writeAtomically(p, out -> LatentPreview.writePng(images.get(f), "loraid", frames.description() + "; frame " + f
                        + "; seed " + result.seed(), out));
                written.add(p);
            }
        }
        return written;
    }

    private interface Body {
        void write(OutputStream out) throws IOException;
    }

    private static void writeAtomically(Path target, Body body) throws IOException {
        Path tmp = Files.createTempFile(target.toAbsolutePath().getParent(), "." + target.getFileName(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE);
                 OutputStream out = java.nio.channels.Channels.newOutputStream(ch)) {
                body.write(out);
                out.flush();
                ch.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        } catch (RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw new LoraidException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }
}
