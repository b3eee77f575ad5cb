package dev.loraid.core.cache;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.data.DatasetSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Bookkeeping shared by the latent and text caching runs: what was written or kept, items skipped with
 * {@code --skip_errors}, and the clean-up of stale caches without {@code --keep_cache} (upstream deletes every
 * {@code *<suffix>} in the cache directory that the run did not produce).
 */
final class CacheRun {
    private final CacheOptions options;
    private final Reporter reporter;
    private final String task;
    private final List<Path> written = new ArrayList<>();
    private final List<Path> existing = new ArrayList<>();
    private final List<Path> deleted = new ArrayList<>();
    private final List<String> skipped = new ArrayList<>();
    private final long total;
    private long done;
    // per dataset
    private final Set<Path> produced = new HashSet<>();
    private final Set<String> failedStems = new HashSet<>();

    CacheRun(CacheOptions options, Reporter reporter, String task, long total) {
        this.options = options;
        this.reporter = reporter;
        this.task = task;
        this.total = total;
    }

    /** True (and the file counts as produced) when {@code --skip_existing} keeps an existing file. */
    boolean keepExisting(Path file) {
        if (options.skipExisting() && Files.isRegularFile(file)) {
            produced.add(file.toAbsolutePath().normalize());
            existing.add(file);
            return true;
        }
        return false;
    }

    void wrote(Path file) {
        produced.add(file.toAbsolutePath().normalize());
        written.add(file);
    }

    /** An item failed: rethrown (naming the file) unless {@code --skip_errors}, then recorded and warned about. */
    void failed(SourceItem item, RuntimeException e) {
        String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (!msg.contains(item.media().toString())) {
            msg = item.media() + ": " + msg;
        }
        if (!options.skipErrors()) {
            throw new LoraidException(named(msg + " (", param("CacheOptions.skipErrors"),
                    " skips bad items and goes on)"), e);
        }
        failedStems.add(item.stem());
        skipped.add(msg);
        reporter.warn("skipping " + msg);
    }

    void itemDone() {
        done++;
        reporter.progress(task, done, total);
    }

    /** Ends one dataset: deletes stale {@code *suffix} files unless {@code --keep_cache}. */
    void finishDataset(DatasetSpec spec, String suffix, String otherSuffix) {
        if (!options.keepCache()) {
            Path dir = spec.cacheDirectory();
            if (Files.isDirectory(dir)) {
                List<Path> stale;
                try (Stream<Path> s = Files.list(dir)) {
                    stale = s.filter(p -> {
                        String n = p.getFileName().toString();
                        return n.endsWith(suffix) && (otherSuffix == null || !n.endsWith(otherSuffix))
                            && Files.isRegularFile(p) && !produced.contains(p.toAbsolutePath().normalize())
                            && failedStems.stream().noneMatch(st -> n.startsWith(st + "_"));
                    }).sorted().toList();
                } catch (IOException e) {
                    throw new LoraidException(dir + ": cannot list the cache directory (" + e.getMessage() + ")", e);
                }
                for (Path p : stale) {
                    try {
                        Files.delete(p);
                        deleted.add(p);
                        reporter.info(named("deleted stale cache " + p + " (not produced by this run; ",
                                param("CacheOptions.keepCache"), " keeps it)"));
                    } catch (IOException e) {
                        reporter.warn(p + ": cannot delete the stale cache (" + e.getMessage() + ")");
                    }
                }
            }
        }
        produced.clear();
        failedStems.clear();
    }

    static void createDirectory(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new LoraidException("cache_directory " + dir + ": cannot create (" + e.getMessage() + ")", e);
        }
    }

    CacheSummary summary() {
        return new CacheSummary(List.copyOf(written), List.copyOf(existing), List.copyOf(deleted), List.copyOf(skipped));
    }
}
