package dev.loraid.core.cache;

import java.nio.file.Path;
import java.util.List;

/**
 * What a caching run did.
 *
 * @param written  cache files written
 * @param existing cache files kept because of {@code --skip_existing}
 * @param deleted  stale cache files removed (no {@code --keep_cache})
 * @param skipped  "file: reason" for each item skipped with {@code --skip_errors}
 */
public record CacheSummary(List<Path> written, List<Path> existing, List<Path> deleted, List<String> skipped) {
}
