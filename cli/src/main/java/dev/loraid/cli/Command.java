package dev.loraid.cli;

import java.io.PrintStream;

/** One {@code loraid} subcommand. It parses its own arguments, calls a library API and reports. */
public interface Command {
    /** The word after {@code loraid}, e.g. {@code inspect}. */
    String name();

    /** One line for {@code loraid --help}. */
    String summary();

    /**
     * Runs the command. Returns the exit code: 0 ok, 1 runtime failure, 2 usage error. Usage problems may also be
     * thrown as {@link UsageException}; other exceptions become exit code 1 with their message.
     */
    int run(String[] args) throws Exception;

    /**
     * Runs the command printing to {@code out} and {@code err} (what {@link Main} calls, so tests can capture the
     * output). The default ignores the streams and calls {@link #run(String[])}; commands that print override it.
     */
    default int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        return run(args);
    }
}
