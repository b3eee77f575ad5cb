package dev.loraid.core;

/**
 * Where library code sends what a user should see: informational lines, warnings and progress. The CLI renders
 * them (stderr, progress bar); a JVM service can route them to its logger. Library code never prints.
 */
public interface Reporter {
    /** Drops everything. */
    Reporter SILENT = new Reporter() {
        @Override
        public void info(String message) {
        }

        @Override
        public void warn(String message) {
        }
    };

    void info(String message);

    void warn(String message);

    /** An info line that names parameters: in API words unless the reporter re-spells them (the CLI: flags). */
    default void info(ParameterText message) {
        info(message.toString());
    }

    /** A warning that names parameters: in API words unless the reporter re-spells them (the CLI: flags). */
    default void warn(ParameterText message) {
        warn(message.toString());
    }

    /** {@code done} of {@code total} units (e.g. bytes or tensors) of {@code task} are finished. */
    default void progress(String task, long done, long total) {
    }
}
