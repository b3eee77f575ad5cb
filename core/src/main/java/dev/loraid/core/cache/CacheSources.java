package dev.loraid.core.cache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.loraid.core.LoraidException;
import dev.loraid.core.data.DatasetConfig;
import dev.loraid.core.data.DatasetSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Lists a dataset's sources (spec training.md §4.2): an image or video directory (by upstream's extension lists,
 * sorted by path; in a video directory, sub-folders are videos made of frames), or a JSONL file with one
 * {@code {"image_path"|"video_path": …, "caption": …}} per line. Relative paths in a JSONL file resolve against the
 * working directory, as upstream does.
 */
public final class CacheSources {
    private static final ObjectMapper JSON = new ObjectMapper();

    private CacheSources() {
    }

    /** The sources of every dataset of {@code config}, in dataset order (all listed before any is cached). */
    public static List<List<SourceItem>> listAll(DatasetConfig config, Path workingDir) {
        List<List<SourceItem>> out = new ArrayList<>();
        for (DatasetSpec spec : config.datasets()) {
            out.add(list(spec, workingDir));
        }
        return out;
    }

    /** Refuses dataset keys whose caching is not implemented, before any work is done. */
    public static void checkSupported(DatasetSpec spec) {
        String where = "datasets[" + spec.index() + "]";
        if (spec.controlDirectory() != null && !spec.isVideo()) {
            throw new LoraidException(where + ": control_directory for an image dataset (control images) is not supported by "
                + "loraid cache yet; video datasets' control videos are");
        }
        if (spec.multipleTarget()) {
            throw new LoraidException(where + ": multiple_target is not supported by loraid cache yet");
        }
        if (spec.fp1fCleanIndices() != null || spec.fp1fTargetIndex() != null) {
            throw new LoraidException(where + ": one-frame (fp_1f_*) datasets are not supported by loraid cache yet");
        }
        if ((spec.imageDirectory() != null || spec.videoDirectory() != null) && spec.captionExtension() == null) {
            throw new LoraidException(where + ": caption_extension is required for a directory dataset (e.g. \".txt\")");
        }
    }

    public static List<SourceItem> list(DatasetSpec spec, Path workingDir) {
        checkSupported(spec);
        if (spec.isVideo()) {
            List<SourceItem> items = spec.videoDirectory() != null ? directory(spec.videoDirectory(), true, spec.captionExtension())
                : jsonl(spec.videoJsonlFile(), "video_path", workingDir);
            return spec.controlDirectory() == null ? items : withControls(items, spec.controlDirectory());
        }
        return spec.imageDirectory() != null ? directory(spec.imageDirectory(), false, spec.captionExtension())
            : jsonl(spec.imageJsonlFile(), "image_path", workingDir);
    }

    static List<SourceItem> directory(Path dir, boolean video, String captionExtension) {
        if (!Files.isDirectory(dir)) {
            throw new LoraidException((video ? "video_directory " : "image_directory ") + dir
                + (Files.exists(dir) ? " is not a directory" : " does not exist"));
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> video ? Videos.isVideo(p) : Files.isRegularFile(p) && Images.isImage(p))
                .sorted().toList();
        } catch (IOException e) {
            throw new LoraidException(dir + ": cannot list (" + e.getMessage() + ")", e);
        }
        List<SourceItem> out = new ArrayList<>();
        for (Path f : files) {
            String stem = stem(f);
            String base = Files.isDirectory(f) ? f.getFileName().toString() : stem;
            out.add(new SourceItem(f, stem, null, f.resolveSibling(base + captionExtension)));
        }
        return out;
    }

    static List<SourceItem> jsonl(Path file, String pathKey, Path workingDir) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new LoraidException(file + ": cannot read the JSONL file (" + e.getMessage() + ")", e);
        }
        List<SourceItem> out = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                continue;
            }
            String where = file + " line " + (i + 1);
            JsonNode n;
            try {
                n = JSON.readTree(line);
            } catch (IOException e) {
                throw new LoraidException(where + ": not JSON (" + e.getMessage() + ")", e);
            }
            JsonNode p = n.get(pathKey);
            JsonNode c = n.get("caption");
            if (p == null || !p.isTextual() || c == null || !c.isTextual()) {
                throw new LoraidException(where + ": expected {\"" + pathKey + "\": \"…\", \"caption\": \"…\"}");
            }
            Path media = workingDir.resolve(p.asText());
            JsonNode control = n.get("control_path");
            if (control != null && !control.isTextual()) {
                throw new LoraidException(where + ": control_path must be a string");
            }
            out.add(new SourceItem(media, stem(media), c.asText(), null, control == null ? null
                : workingDir.resolve(control.asText())));
        }
        return out;
    }

    /**
     * Each video's control video in {@code dir} as upstream finds it (§4.2): the same file name, else a folder named
     * like the video's stem, else the stem with any video extension; every video must have one.
     */
    static List<SourceItem> withControls(List<SourceItem> items, Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new LoraidException("control_directory " + dir + (Files.exists(dir) ? " is not a directory" : " does not exist"));
        }
        List<SourceItem> out = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (SourceItem item : items) {
            Path control = item.control() != null ? item.control() : controlOf(item.media(), dir);
            if (control == null) {
                missing.add(item.media().getFileName().toString());
            } else {
                out.add(new SourceItem(item.media(), item.stem(), item.caption(), item.captionFile(), control));
            }
        }
        if (!missing.isEmpty()) {
            throw new LoraidException("control_directory " + dir + ": no control video for " + missing.size() + " video(s): "
                + String.join(", ", missing));
        }
        return out;
    }

    private static Path controlOf(Path video, Path dir) {
        Path same = dir.resolve(video.getFileName().toString());
        if (Files.exists(same)) {
            return same;
        }
        String stem = stem(video);
        Path folder = dir.resolve(stem);
        if (Files.isDirectory(folder)) {
            return folder;
        }
        for (String ext : Videos.EXTENSIONS) {
            Path other = dir.resolve(stem + ext);
            if (Files.exists(other)) {
                return other;
            }
        }
        return null;
    }

    /** The base name without its extension (a folder's whole name). */
    static String stem(Path p) {
        String n = p.getFileName().toString();
        if (Files.isDirectory(p)) {
            return n;
        }
        int dot = n.lastIndexOf('.');
        return dot <= 0 ? n : n.substring(0, dot);
    }
}
