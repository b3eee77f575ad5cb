package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * TensorBoard logging of a run (training.md §5.5, upstream's {@code --logging_dir} with the tensorboard tracker): each run
 * writes into {@code <loggingDir>/<prefix><yyyyMMddHHmmss>/<trackerName>}, as accelerate's tracker lays it out.
 *
 * @param loggingDir  the folder that holds the runs' folders
 * @param prefix      {@code --log_prefix}, put before each run's timestamp ("" for none)
 * @param trackerName {@code --log_tracker_name}, the sub-folder of the run ({@code network_train} by default)
 */
public record LogConfig(Path loggingDir, String prefix, String trackerName) {
    public static final String DEFAULT_TRACKER = "network_train";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMddHHmmss");

    public LogConfig {
        if (loggingDir == null) {
            throw new ParameterException(named(param("LogConfig.loggingDir"), " is required"));
        }
        prefix = prefix == null ? "" : prefix;
        trackerName = trackerName == null ? DEFAULT_TRACKER : trackerName;
    }

    /** The event files' folder of a run started at {@code start}. */
    public Path runDirectory(LocalDateTime start) {
        return loggingDir.resolve(prefix + STAMP.format(start)).resolve(trackerName);
    }
}
