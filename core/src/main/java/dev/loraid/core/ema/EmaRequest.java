package dev.loraid.core.ema;

import java.nio.file.Path;
import java.util.List;
import java.util.SortedMap;

/**
 * What {@code loraid ema} was asked to do (spec loraid.md §5, §6.2).
 *
 * @param series        {@code --loraN} slot → any epoch file of that run (discovery mode)
 * @param positional    legacy mode: exactly these files, Stage 1 only
 * @param outputFile    {@code --output_file}, or null
 * @param seriesOutputs {@code --output_file_loraN} slot → path
 * @param noSort        legacy mode: keep command-line order; discovery mode: sort by epoch number
 * @param average       blend factor b ∈ [0, 1]; 0 = no Stage 2
 * @param combineMode   {@code partitioned} or {@code union}
 */
public record EmaRequest(SortedMap<Integer, Path> series, List<Path> positional, Path outputFile,
        SortedMap<Integer, Path> seriesOutputs, EmaSchedule schedule, EpochDiscovery.SortBy sortBy, boolean noSort,
        double average, LoraBlend.Mode blendMode, double conflictThreshold, boolean mergeOnly, String combineMode,
        boolean referenceCompat) {
    public static final int MAX_SERIES = 20;
    /** The API names of {@link #series} and {@link #seriesOutputs} in messages ({@link dev.loraid.core.ParameterText}). */
    public static final String SERIES = "EmaRequest.series";
    public static final String SERIES_OUTPUTS = "EmaRequest.seriesOutputs";

    /** The API name of series {@code slot}'s input in messages: {@code EmaRequest.series[slot]}. */
    public static String series(int slot) {
        return SERIES + "[" + slot + "]";
    }

    /** The API name of series {@code slot}'s output in messages: {@code EmaRequest.seriesOutputs[slot]}. */
    public static String seriesOutput(int slot) {
        return SERIES_OUTPUTS + "[" + slot + "]";
    }
}
