package dev.loraid.cli;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;

/** Commons CLI parsing shared by the commands: bad flags become {@link UsageException}s (exit code 2). */
final class CliOptions {
    private CliOptions() {
    }

    /** Parses {@code args}; null when {@code --help} was given (and the usage has been printed). */
    static CommandLine parse(Command cmd, String usage, Options options, String[] args, PrintStream out) {
        options.addOption(null, "help", false, "print this help");
        try {
            CommandLine line = new DefaultParser().parse(options, args);
            if (line.hasOption("help")) {
                PrintWriter w = new PrintWriter(out, true);
                new HelpFormatter().printHelp(w, 100, "loraid " + cmd.name() + " " + usage, cmd.summary(), options,
                        2, 2, null);
                w.flush();
                return null;
            }
            return line;
        } catch (ParseException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** The value of a required path option. */
    static Path path(CommandLine line, String option) {
        String v = line.getOptionValue(option);
        if (v == null || v.isBlank()) {
            throw new UsageException("missing --" + option);
        }
        return Path.of(v);
    }
}
