package dev.loraid.cli;

import dev.loraid.core.LoraidException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

/** Commons CLI plumbing shared by the LoRA commands: parsing into usage errors, typed values, help. */
final class CliArgs {
    private CliArgs() {
    }

    /** A long option taking one value. */
    static Option value(String name, String argName, String description) {
        return Option.builder().longOpt(name).hasArg().argName(argName).desc(description).build();
    }

    /** A long option taking any number of values, collected across repeated occurrences in command-line order. */
    static Option values(String name, String argName, String description) {
        return Option.builder().longOpt(name).hasArgs().argName(argName).desc(description).build();
    }

    static Option flag(String name, String description) {
        return Option.builder().longOpt(name).desc(description).build();
    }

    static CommandLine parse(Options options, String[] args) {
        try {
            return new DefaultParser().parse(options, args);
        } catch (ParseException e) {
            throw new UsageException(e.getMessage());
        }
    }

    static boolean printHelp(CommandLine cl, Options options, String usage, String footer, PrintStream out) {
        if (!cl.hasOption("help")) {
            return false;
        }
        PrintWriter w = new PrintWriter(out);
        new HelpFormatter().printHelp(w, 110, usage, "", options, 2, 4, footer);
        w.flush();
        return true;
    }

    /** All values of every occurrence of the options named, in command-line order (aliases merged). */
    static List<String> all(CommandLine cl, String... names) {
        return Arrays.stream(cl.getOptions())
                .filter(o -> Arrays.asList(names).contains(o.getLongOpt()))
                .flatMap(o -> o.getValuesList().stream())
                .toList();
    }

    static Path path(CommandLine cl, String name) {
        String v = cl.getOptionValue(name);
        return v == null ? null : Path.of(v);
    }

    static Path requiredPath(CommandLine cl, String name) {
        Path p = path(cl, name);
        if (p == null) {
            throw new UsageException("--" + name + " is required");
        }
        return p;
    }

    static Integer integer(CommandLine cl, String name) {
        String v = cl.getOptionValue(name);
        try {
            return v == null ? null : Integer.valueOf(v.strip());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " expects an integer, got '" + v + "'");
        }
    }

    static Double number(CommandLine cl, String name) {
        String v = cl.getOptionValue(name);
        try {
            double d = v == null ? Double.NaN : Double.parseDouble(v.strip());
            if (v != null && !Double.isFinite(d)) {
                throw new NumberFormatException();
            }
            return v == null ? null : d;
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " expects a finite number, got '" + v + "'");
        }
    }

    /** Runs a value rule of the library and turns its complaint into a usage error (exit code 2). */
    static <T> T usage(Supplier<T> rule) {
        try {
            return rule.get();
        } catch (LoraidException e) {
            throw new UsageException(e.getMessage());
        }
    }
}
