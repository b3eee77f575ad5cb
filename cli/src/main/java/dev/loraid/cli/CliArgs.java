package dev.loraid.cli;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.plan.LoraidArgs;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.safetensors.OutputSet;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanPresets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

/** Commons CLI plumbing shared by the commands: parsing into usage errors, typed values, shared flag rules. */
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

    /** Fails on positional arguments, for commands that take options only. */
    static void noArguments(CommandLine cl) {
        if (!cl.getArgList().isEmpty()) {
            throw new UsageException("unexpected argument '" + cl.getArgList().getFirst() + "'");
        }
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

    /**
     * The {@code --LORAID}/{@code --loraid} IDs, checked against the number of multipliers given (the rules of
     * {@link LoraidArgs#loraids}; a violation is a usage error); empty when no ID was given.
     */
    static Optional<List<Integer>> loraids(CommandLine cl, int multipliers, Reporter reporter) {
        List<String> tokens = all(cl, "LORAID", "loraid");
        return tokens.isEmpty() ? Optional.empty()
                : Optional.of(usage(() -> LoraidArgs.loraids(tokens, multipliers, reporter)));
    }

    /** The config of the Wan preset named by a flag's value; an unknown name is a usage error. */
    static WanConfig preset(String name) {
        try {
            return WanPresets.get(name).config();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** {@code --device cpu|cuda|cuda:N|auto}, read by {@link #device}. */
    static Option deviceOption() {
        return value("device", "DEVICE", "where the model runs: cpu, cuda, cuda:N, or auto (cuda:0 when usable, else "
                + "the CPU); default -Dloraid.device, else cpu");
    }

    /**
     * The device {@code --device} names ({@link Backends#defaultDevice()} without it), started: a malformed name is a
     * usage error (exit 2); a device that cannot be used (no driver, no such GPU, a missing library) a runtime error
     * (exit 1) that says why.
     */
    static Device device(CommandLine cl) {
        Device device;
        try {
            device = cl.hasOption("device") ? Backends.resolve(cl.getOptionValue("device")) : Backends.defaultDevice();
        } catch (IllegalArgumentException e) {
            throw new UsageException("--device: " + e.getMessage());
        }
        String problem = Backends.problem(device);
        if (problem != null) {
            throw new IllegalStateException("--device " + device + " cannot be used: " + problem);
        }
        return device;
    }

    /** Two output flags naming the same file are a usage error (exit 2) naming both; {@code flags}: flag → path. */
    static void distinctOutputs(Map<String, Path> flags) {
        try {
            OutputSet.checkDistinct(flags);
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
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
