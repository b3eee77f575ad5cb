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
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
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
        if (spec.noResizeControl() || spec.controlResolution() != null) {
            throw new LoraidException(where + ": no_resize_control and control_resolution are not supported by loraid cache "
                + "yet (control images take the image's bucket)");
        }
        if (spec.multipleTarget()) {
            throw new LoraidException(where + ": multiple_target is not supported by loraid cache yet");
        }
        if ((spec.fp1fCleanIndices() != null || spec.fp1fTargetIndex() != null) && spec.isVideo()) {
            throw new LoraidException(where + ": fp_1f_* keys are for image datasets (one-frame training)");
        }
        if ((spec.imageDirectory() != null || spec.videoDirectory() != null) && spec.captionExtension() == null) {
            throw new LoraidException(where + ": caption_extension is required for a directory dataset (e.g. \".txt\")");
        }
    }

    /** Control images per image: one per fp_1f_clean_indices entry for one-frame datasets, else one (upstream, Wan). */
    static int controlsPerImage(DatasetSpec spec) {
        return spec.fp1fCleanIndices() != null ? spec.fp1fCleanIndices().size() : 1;
    }

    public static List<SourceItem> list(DatasetSpec spec, Path workingDir) {
        checkSupported(spec);
        if (spec.isVideo()) {
            List<SourceItem> items = spec.videoDirectory() != null ? directory(spec.videoDirectory(), true, spec.captionExtension())
                : jsonl(spec.videoJsonlFile(), "video_path", workingDir);
            return spec.controlDirectory() == null ? items : withControls(items, spec.controlDirectory());
        }
        if (spec.imageDirectory() != null) {
            List<SourceItem> items = directory(spec.imageDirectory(), false, spec.captionExtension());
            return spec.controlDirectory() == null ? items
                : withControlImages(items, spec.controlDirectory(), controlsPerImage(spec));
        }
        List<SourceItem> items = jsonl(spec.imageJsonlFile(), "image_path", workingDir);
        if (items.stream().anyMatch(i -> !i.controls().isEmpty())) {
            int count = controlsPerImage(spec);
            List<SourceItem> out = new ArrayList<>();
            for (SourceItem i : items) {
                if (i.controls().size() < count) {
                    throw new LoraidException(spec.imageJsonlFile() + ": " + i.media().getFileName() + " has "
                        + i.controls().size() + " control_path value(s), " + count + " needed");
                }
                out.add(i.withControls(i.controls().subList(0, count)));
            }
            return out;
        }
        return items;
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
            out.add(new SourceItem(media, stem(media), c.asText(), null, controlPaths(n, where, workingDir)));
        }
        return out;
    }

    /**
     * A JSONL line's control paths as upstream normalises them: {@code control_path} is {@code control_path_0}, then the
     * {@code control_path_N} keys in the order of N.
     */
    private static List<Path> controlPaths(JsonNode n, String where, Path workingDir) {
        TreeMap<Integer, Path> byIndex = new TreeMap<>();
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            if (!key.equals("control_path") && !key.matches("control_path_\\d+")) {
                continue;
            }
            JsonNode v = n.get(key);
            if (!v.isTextual()) {
                throw new LoraidException(where + ": " + key + " must be a string");
            }
            int index = key.equals("control_path") ? 0 : Integer.parseInt(key.substring("control_path_".length()));
            if (byIndex.put(index, workingDir.resolve(v.asText())) != null) {
                throw new LoraidException(where + ": control_path and control_path_0 both given");
            }
        }
        return List.copyOf(byIndex.values());
    }

    /**
     * Each image's control images in {@code dir} as upstream's ImageDirectoryDatasource finds them (§4.2): images with
     * longer names first, each taking the not yet taken files named like its stem followed by "." or "_"; the one named
     * exactly like the stem first, then by the number after the last "_"; the first {@code count} are kept, and every image
     * must have that many.
     */
    static List<SourceItem> withControlImages(List<SourceItem> items, Path dir, int count) {
        if (!Files.isDirectory(dir)) {
            throw new LoraidException("control_directory " + dir + (Files.exists(dir) ? " is not a directory" : " does not exist"));
        }
        Set<Path> candidates;
        try (Stream<Path> s = Files.list(dir)) {
            candidates = s.filter(p -> Files.isRegularFile(p) && Images.isImage(p))
                .collect(Collectors.toCollection(TreeSet::new));
        } catch (IOException e) {
            throw new LoraidException(dir + ": cannot list (" + e.getMessage() + ")", e);
        }
        Map<Path, List<Path>> found = new HashMap<>();
        List<SourceItem> longestFirst = new ArrayList<>(items);
        longestFirst.sort(Comparator.comparingInt((SourceItem i) -> i.media().getFileName().toString().length())
            .reversed());
        List<String> missing = new ArrayList<>();
        for (SourceItem item : longestFirst) {
            String stem = item.stem();
            List<Path> mine = new ArrayList<>(candidates.stream().filter(p -> {
                String name = p.getFileName().toString();
                return name.startsWith(stem + ".") || name.startsWith(stem + "_");
            }).toList());
            candidates.removeAll(mine);
            Map<Path, Integer> order = new HashMap<>();
            for (Path p : mine) {
                String base = stem(p);
                if (base.equals(stem)) {
                    order.put(p, 0);
                    continue;
                }
                String suffix = base.substring(base.lastIndexOf('_') + 1);
                if (suffix.isEmpty() || !suffix.chars().allMatch(Character::isDigit)) {
                    throw new LoraidException("control_directory " + dir + ": " + p.getFileName() + " does not end in _<number> "
                        + "(control images of " + item.media().getFileName() + " are " + stem + ".<ext> or " + stem
                        + "_<n>.<ext>)");
                }
                order.put(p, Integer.parseInt(suffix) + 1);
            }
            mine.sort(Comparator.comparing(order::get));
            if (mine.size() < count) {
                missing.add(item.media().getFileName() + " (" + mine.size() + " of " + count + ")");
            } else {
                found.put(item.media(), mine.subList(0, count));
            }
        }
        if (!missing.isEmpty()) {
            throw new LoraidException("control_directory " + dir + ": not enough control images for " + missing.size()
                + " image(s): " + String.join(", ", missing));
        }
        return items.stream().map(i -> i.withControls(found.get(i.media()))).toList();
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
            Path control = !item.controls().isEmpty() ? item.controls().getFirst() : controlOf(item.media(), dir);
            if (control == null) {
                missing.add(item.media().getFileName().toString());
            } else {
                out.add(item.withControls(List.of(control)));
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
