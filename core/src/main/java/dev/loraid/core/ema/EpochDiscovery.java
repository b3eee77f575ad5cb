package dev.loraid.core.ema;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the epoch files of one training run from any one of them (spec loraid.md §5.1, REQ-EMA-1..3): files named
 * exactly {@code {base}-NNNNNN.safetensors} (literal base, six digits), searched up to two levels below the
 * reference's folder and, when that folder looks like a run folder ({@code run2}, {@code epoch_3} …), below its
 * parent and the parent's run-like siblings too. Resumed runs (same names in other folders) are all kept.
 */
public final class EpochDiscovery {
    static final Pattern EPOCH_FILE = Pattern.compile("^(.+?)-(\\d{6})\\.safetensors$");
    private static final Pattern RUN_DIR = Pattern.compile("(?i).*(run|epoch|step|checkpoint).*\\d+.*");
    private static final Pattern RUN_SIBLING = Pattern.compile("(?i).*(run|epoch|step|checkpoint|train).*");
    private static final int MAX_DEPTH = 2;

    /** Order of the discovered files (REQ-EMA-3). */
    public enum SortBy {
        /** modification time, then epoch number, then path (the reference's order, with defined ties). */
        MTIME,
        /** epoch number, then modification time, then path. */
        EPOCH
    }

    /** One epoch file; {@code number} is −1 for a file outside the naming scheme. */
    public record EpochFile(Path path, int number, FileTime mtime) {
    }

    private EpochDiscovery() {
    }

    /** The series of {@code reference}, oldest first, logged with index, path and mtime. */
    public static List<Path> discover(Path reference, SortBy sortBy, Reporter reporter) {
        LoraFiles.checkInputFile(reference, "LoRA file");
        Matcher m = EPOCH_FILE.matcher(reference.getFileName().toString());
        if (!m.matches()) {
            reporter.warn(reference + " is not named {name}-NNNNNN.safetensors: no epoch discovery, the series is this one file");
            return List.of(reference);
        }
        String base = m.group(1);
        Path dir = reference.toAbsolutePath().normalize().getParent();
        Set<Path> roots = new LinkedHashSet<>();
        roots.add(dir);
        Path parent = dir.getParent();
        if (parent != null && RUN_DIR.matcher(dir.getFileName().toString()).matches()) {
            roots.add(parent);
            for (Path sibling : list(parent)) {
                if (Files.isDirectory(sibling) && RUN_SIBLING.matcher(sibling.getFileName().toString()).matches()) {
                    roots.add(sibling);
                }
            }
        }
        Map<Path, EpochFile> found = new LinkedHashMap<>();
        for (Path root : roots) {
            collect(root, base, 0, found);
        }
        if (found.isEmpty()) {
            return List.of(reference);
        }
        List<EpochFile> files = new ArrayList<>(found.values());
        files.sort(order(sortBy));
        for (int i = 0; i < files.size(); i++) {
            EpochFile f = files.get(i);
            reporter.info("  [" + i + "] " + dir.relativize(f.path()) + "  mtime " + f.mtime());
        }
        return files.stream().map(EpochFile::path).toList();
    }

    static Comparator<EpochFile> order(SortBy sortBy) {
        Comparator<EpochFile> byPath = Comparator.comparing(f -> f.path().toString());
        return switch (sortBy) {
            case MTIME -> Comparator.comparing(EpochFile::mtime).thenComparingInt(EpochFile::number).thenComparing(byPath);
            case EPOCH -> Comparator.comparingInt(EpochFile::number).thenComparing(EpochFile::mtime).thenComparing(byPath);
        };
    }

    /** The file's epoch number, or −1. */
    static int epochNumber(Path file) {
        Matcher m = EPOCH_FILE.matcher(file.getFileName().toString());
        return m.matches() ? Integer.parseInt(m.group(2)) : -1;
    }

    private static void collect(Path dir, String base, int depth, Map<Path, EpochFile> found) {
        for (Path p : list(dir)) {
            if (Files.isDirectory(p)) {
                if (depth < MAX_DEPTH) {
                    collect(p, base, depth + 1, found);
                }
                continue;
            }
            Matcher m = EPOCH_FILE.matcher(p.getFileName().toString());
            if (m.matches() && m.group(1).equals(base) && Files.isRegularFile(p)) {
                try {
                    Path real = p.toRealPath();
                    found.putIfAbsent(real, new EpochFile(real, Integer.parseInt(m.group(2)), Files.getLastModifiedTime(real)));
                } catch (IOException e) {
                    // vanished or unreadable: skipped, as unreadable folders are (REQ-EMA-2)
                }
            }
        }
    }

    private static List<Path> list(Path dir) {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            ds.forEach(out::add);
        } catch (IOException | SecurityException e) {
            // unreadable folders are skipped silently (REQ-EMA-2)
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }
}
