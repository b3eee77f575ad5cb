package dev.loraid.cli;

import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Options;

/**
 * A {@link Command} whose arguments are Commons CLI options. It owns what every such command does the same way:
 * add {@code -h/--help}, parse (a bad flag is a {@link UsageException}, exit code 2), print the help and return 0;
 * a subclass gives its options and help texts and runs on the parsed command line.
 */
abstract class OptionsCommand implements Command {
    /** The command's own options ({@code -h/--help} is added to them). */
    abstract Options options();

    /** The first line of {@code --help}, e.g. {@code loraid tag FILE --LORAID n ...}. */
    abstract String usage();

    /** Text between the usage line and the options in {@code --help}; none unless overridden. */
    String helpHeader() {
        return "";
    }

    /** Text after the options in {@code --help}; none unless overridden. */
    String helpFooter() {
        return "";
    }

    /** Whether the command takes upstream's {@code --config_file} ({@link ConfigFileArgs}); none unless overridden. */
    boolean readsConfigFile() {
        return false;
    }

    /** Runs on the parsed arguments ({@code --help} has been handled). Returns the exit code. */
    abstract int run(CommandLine cl, PrintStream out, PrintStream err) throws Exception;

    @Override
    public final int run(String[] args) throws Exception {
        return run(args, System.out, System.err);
    }

    @Override
    public final int run(String[] args, PrintStream out, PrintStream err) throws Exception {
        Options options = options();
        options.addOption("h", "help", false, "print this help");
        if (readsConfigFile()) {
            options.addOption(CliArgs.value(ConfigFileArgs.FLAG, "FILE", "a TOML file of this command's flags (tables only "
                    + "group them); the command line wins over it (upstream's --config_file)"));
            args = ConfigFileArgs.expand(args, options);
        }
        CommandLine cl = CliArgs.parse(options, args);
        if (cl.hasOption("help")) {
            PrintWriter w = new PrintWriter(out);
            new HelpFormatter().printHelp(w, 110, usage(), helpHeader(), options, 2, 4, helpFooter());
            w.flush();
            return 0;
        }
        if (cl.hasOption(CliArgs.ALLOW_NON_FINITE)) {
            // the opt-out of the writer's finite check, for the outputs of this run only
            return ScopedValue.where(SafetensorsWriter.ALLOW_NON_FINITE, true).call(() -> run(cl, out, err));
        }
        return run(cl, out, err);
    }
}
