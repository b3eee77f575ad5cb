package dev.loraid.core.data;

import dev.loraid.core.Reporter;
import java.nio.file.Path;
import java.util.List;

/**
 * A parsed dataset config file (spec training.md §4.1): its {@code [[datasets]]} entries with {@code [general]}
 * and the defaults already applied, in file order.
 *
 * @param file the config file as given
 */
public record DatasetConfig(Path file, List<DatasetSpec> datasets) {
    public DatasetConfig {
        datasets = List.copyOf(datasets);
    }

    /** See {@link DatasetConfigReader#read}. */
    public static DatasetConfig read(Path file, Path workingDir, Reporter reporter) {
        return DatasetConfigReader.read(file, workingDir, reporter);
    }
}
