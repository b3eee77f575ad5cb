package dev.loraid.cli;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.safetensors.OutputSet;
import dev.loraid.tensor.safetensors.TempFiles;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanPresets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
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

    /** The flag name of the opt-out of the writer's NaN/Inf check ({@link #allowNonFinite()}). */
    static final String ALLOW_NON_FINITE = "allow_non_finite";

    /**
     * {@code --allow_non_finite}: without it every tensor a command writes is checked for NaN/±Inf before the output
     * is committed (SafetensorsWriter.ALLOW_NON_FINITE, bound by {@link OptionsCommand}).
     */
    static Option allowNonFinite() {
        return flag(ALLOW_NON_FINITE, "write outputs even if a tensor holds NaN or Inf (default: refuse, nothing is written)");
    }

    static Option flag(String name, String description) {
        return Option.builder().longOpt(name).desc(description).build();
    }

    /**
     * Parses {@code args}; a bad flag is a usage error. A single-value option ({@link #value}) given more than once
     * is one too: Commons CLI would silently keep the first value, so {@code --save_merged_model a
     * --save_merged_model b} would write to {@code a}. List options ({@link #values}) stay repeatable.
     */
    static CommandLine parse(Options options, String[] args) {
        CommandLine cl;
        try {
            cl = new DefaultParser().parse(options, args);
        } catch (ParseException e) {
            throw new UsageException(e.getMessage());
        }
        Map<String, Integer> seen = new HashMap<>();
        for (Option o : cl.getOptions()) {
            // each occurrence is its own Option object; hasArgs() options take any number of values
            if (o.hasArg() && !o.hasArgs() && seen.merge(o.getKey(), 1, Integer::sum) == 2) {
                throw new UsageException(flagName(o) + " given more than once (" + String.join(", ", valuesOf(cl, o.getKey()))
                        + "); give it once");
            }
        }
        return cl;
    }

    private static String flagName(Option o) {
        return o.getLongOpt() != null ? "--" + o.getLongOpt() : "-" + o.getOpt();
    }

    private static List<String> valuesOf(CommandLine cl, String key) {
        return Arrays.stream(cl.getOptions()).filter(o -> o.getKey().equals(key)).map(o -> "'" + o.getValue() + "'").toList();
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

    /** The value of one of two alias flags ({@code --save_dtype}/{@code --dit_dtype}); both given is a usage error. */
    static String either(CommandLine cl, String name, String alias) {
        if (cl.hasOption(name) && cl.hasOption(alias)) {
            throw new UsageException("--" + name + " and its alias --" + alias + " both given; give one");
        }
        return cl.hasOption(name) ? cl.getOptionValue(name) : cl.getOptionValue(alias);
    }

    /** The values of a list flag of files; an empty value or comma piece ({@code --lora_weight ''}) is a usage error. */
    static List<String> files(CommandLine cl, String name) {
        List<String> v = all(cl, name);
        for (String t : v) {
            if (t.isBlank() || (t.contains(",") && !java.nio.file.Files.exists(Path.of(t)) && Arrays.stream(t.split(",", -1)).anyMatch(String::isBlank))) {
                throw new UsageException("--" + name + " has an empty file name in '" + t + "'");
            }
        }
        return v;
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

    /** {@link #integer(CommandLine, String)} within {@code [min, max]}; outside it is a usage error naming the flag. */
    static Integer integer(CommandLine cl, String name, int min, int max) {
        Integer v = integer(cl, name);
        if (v != null && (v < min || v > max)) {
            throw new UsageException("--" + name + " must be " + range(min, max) + ", got " + v);
        }
        return v;
    }

    /** {@link #number(CommandLine, String)} within {@code [min, max]}; outside it is a usage error naming the flag. */
    static Double number(CommandLine cl, String name, double min, double max) {
        Double v = number(cl, name);
        if (v != null && !(v >= min && v <= max)) {
            throw new UsageException("--" + name + " must be " + (max == Double.MAX_VALUE ? "≥ " + min : "in [" + min + ", " + max + "]")
                    + ", got " + cl.getOptionValue(name));
        }
        return v;
    }

    /** {@code --seed}: an integer in [0, 2^63 − 1], or null when not given. */
    static Long seed(CommandLine cl) {
        String v = cl.getOptionValue("seed");
        if (v == null) {
            return null;
        }
        try {
            long seed = Long.parseLong(v.strip());
            if (seed >= 0) {
                return seed;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new UsageException("--seed expects an integer in [0, " + Long.MAX_VALUE + "], got '" + v + "'");
    }

    private static String range(int min, int max) {
        return max == Integer.MAX_VALUE ? "at least " + min : "in [" + min + ", " + max + "]";
    }

    /** The regexes of a list flag, each compiled once here: a bad one is a usage error naming the flag and the pattern. */
    static List<String> patterns(CommandLine cl, String name) {
        List<String> v = all(cl, name);
        for (String p : v) {
            try {
                Pattern.compile(p);
            } catch (PatternSyntaxException e) {
                throw new UsageException("--" + name + " '" + p + "' is not a valid regular expression: " + e.getDescription()
                        + " near index " + e.getIndex());
            }
        }
        return v;
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
        return device(cl, System.err);
    }

    /**
     * {@link #device(CommandLine)}; {@code --device auto} falling back to the CPU says why as a {@code warning:} line on
     * {@code err}, not as a timestamped java.util.logging record.
     */
    static Device device(CommandLine cl, java.io.PrintStream err) {
        Device device;
        try {
            String name = cl.getOptionValue("device");
            if (name != null && name.strip().equalsIgnoreCase("auto")) {
                String cuda = Backends.problem(Device.cuda(0));
                if (cuda != null) {
                    err.println("warning: --device auto: using the CPU, cuda:0 is not usable: " + cuda);
                }
                return cuda == null ? Device.cuda(0) : Device.CPU;
            }
            device = cl.hasOption("device") ? Backends.resolve(name) : Backends.defaultDevice();
        } catch (IllegalArgumentException e) {
            throw new UsageException("--device: " + e.getMessage());
        }
        String problem = Backends.problem(device);
        if (problem != null) {
            throw new IllegalStateException("--device " + device + " cannot be used: " + problem);
        }
        return device;
    }

    /**
     * An output folder flag ({@code --save_path DIR}): created if missing and checked writable before any input is
     * read, so a wrong folder fails at once (exit 1, naming the flag and the folder); temp files a killed earlier run
     * left there are removed.
     */
    static void outputFolder(String flag, Path dir) throws IOException {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IOException("--" + flag + " " + dir + ": cannot create the folder: " + TempFiles.reason(e), e);
        }
        if (!Files.isWritable(dir)) {
            throw new IOException("--" + flag + " " + dir + " is not writable");
        }
        TempFiles.removeStale(dir);
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
            throw new UsageException(CliFlags.message(e));
        }
    }
}
