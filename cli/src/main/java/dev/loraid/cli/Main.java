package dev.loraid.cli;

import dev.loraid.tensor.safetensors.NonFiniteException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

/** Entry point of the {@code loraid} command: dispatches to one {@link Command}. Exit codes: 0 ok, 1 failure, 2 usage. */
public final class Main {
    private Main() {
    }

    /** Every subcommand, in the order {@code --help} lists them. */
    static List<Command> commands() {
        return List.of(
                new DemoCommand(),
                new CacheCommand(),
                new TrainCommand(),
                new GenerateCommand(),
                new InspectCommand(),
                new WanForwardCommand(),
                new T5ForwardCommand(),
                new VaeForwardCommand(),
                new TokenizeCommand(),
                new PlanCommand(),
                new MergeCommand(),
                new ConvertCommand(),
                new EmaCommand(),
                new ValidateCommand(),
                new TagCommand());
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h") || args[0].equals("help")) {
            printHelp(out);
            return args.length == 0 ? 2 : 0;
        }
        if (args[0].equals("--version")) {
            out.println("loraid " + version());
            return 0;
        }
        Command cmd = commands().stream().filter(c -> c.name().equals(args[0])).findFirst().orElse(null);
        if (cmd == null) {
            err.println("loraid: unknown command '" + args[0] + "' (see loraid --help)");
            return 2;
        }
        try {
            return cmd.run(Arrays.copyOfRange(args, 1, args.length), out, err);
        } catch (UsageException e) {
            err.println("loraid " + cmd.name() + ": " + e.getMessage());
            err.println("run 'loraid " + cmd.name() + " --help' for usage");
            return 2;
        } catch (Exception | OutOfMemoryError e) {
            err.println("loraid " + cmd.name() + ": error: " + describe(e) + (causedBy(e, NonFiniteException.class)
                    ? " (--" + CliArgs.ALLOW_NON_FINITE + " writes it anyway)" : ""));
            if (Boolean.getBoolean("loraid.debug")) {
                e.printStackTrace(err);
            }
            return 1;
        }
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
        for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    /** The message of an exception and its causes, without a stack trace (-Dloraid.debug=true prints one). */
    static String describe(Throwable e) {
        String first = CliFlags.message(e);
        StringBuilder sb = new StringBuilder(first != null ? first : e.getClass().getSimpleName());
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            String m = CliFlags.message(c);
            if (m != null && !sb.toString().contains(m)) {
                sb.append(": ").append(m);
            }
        }
        return sb.toString();
    }

    private static void printHelp(PrintStream out) {
        out.println("loraid " + version() + " — Wan 2.1/2.2 LoRA and LORAID tools in pure Java");
        out.println();
        out.println("usage: loraid <command> [options]   (loraid <command> --help for its options)");
        out.println();
        out.println("commands:");
        for (Command c : commands()) {
            out.printf("  %-12s %s%n", c.name(), c.summary());
        }
        out.println();
        out.println("  --version    print the version");
        out.println("  --help       print this help");
    }

    static String version() {
        try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "dev");
        } catch (IOException e) {
            return "dev";
        }
    }
}
