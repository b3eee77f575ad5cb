package dev.loraid.cli;

import dev.loraid.core.ParameterText;
import dev.loraid.core.Reporter;
import java.io.PrintStream;

/**
 * Renders library {@link Reporter} output for a command: info lines and {@code warning:} lines on stderr (stdout
 * stays for the command's data), progress as a {@link ProgressBar} per task (silent unless stderr is a terminal).
 */
final class CliReporter implements Reporter, AutoCloseable {
    private final PrintStream err;
    private final boolean quiet;
    private final String unit;
    private ProgressBar bar;
    private String barTask;

    CliReporter(PrintStream err, boolean quiet) {
        this(err, quiet, "bytes");
    }

    /** A reporter whose progress counts {@code unit} (e.g. "steps"). */
    CliReporter(PrintStream err, boolean quiet, String unit) {
        this.err = err;
        this.quiet = quiet;
        this.unit = unit;
    }

    @Override
    public void info(String message) {
        if (!quiet) {
            endBar();
            err.println(message);
        }
    }

    @Override
    public void warn(String message) {
        endBar();
        err.println("warning: " + message);
    }

    @Override
    public void info(ParameterText message) {
        info(CliFlags.render(message));
    }

    @Override
    public void warn(ParameterText message) {
        warn(CliFlags.render(message));
    }

    @Override
    public void progress(String task, long done, long total) {
        if (bar == null || !task.equals(barTask)) {
            endBar();
            bar = ProgressBar.create(task, total, unit, quiet);
            barTask = task;
        }
        bar.step(done - bar.done());
    }

    private void endBar() {
        if (bar != null) {
            bar.close();
            bar = null;
            barTask = null;
        }
    }

    @Override
    public void close() {
        endBar();
    }
}
