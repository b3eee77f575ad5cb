package dev.loraid.cli;

import dev.loraid.tensor.Backends;
import dev.loraid.tensor.Device;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Option;
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

    /** {@code --device cpu|cuda|cuda:N|auto}, read by {@link #device}. */
    static Option deviceOption() {
        return Option.builder().longOpt("device").hasArg().argName("DEVICE")
                .desc("where the model runs: cpu, cuda, cuda:N, or auto (cuda:0 when usable, else the CPU); "
                        + "default -Dloraid.device, else cpu").build();
    }

    /**
     * The device {@code --device} names ({@link Backends#defaultDevice()} without it), started: a malformed name is a
     * usage error (exit 2); a device that cannot be used (no driver, no such GPU, a missing library) a runtime error
     * (exit 1) that says why.
     */
    static Device device(CommandLine line) {
        Device device;
        try {
            device = line.hasOption("device") ? Backends.resolve(line.getOptionValue("device")) : Backends.defaultDevice();
        } catch (IllegalArgumentException e) {
            throw new UsageException("--device: " + e.getMessage());
        }
        String problem = Backends.problem(device);
        if (problem != null) {
            throw new IllegalStateException("--device " + device + " cannot be used: " + problem);
        }
        return device;
    }
}
