package dev.loraid.bench.harness;

import java.util.List;

/** The few options benchmarks take ({@code --runs 7}); each is removed from the list as it is read. */
public final class Options {
    private Options() {
    }

    /** {@code --name N} from args (removed from the list), or the default. */
    public static int intOption(List<String> args, String name, int def) {
        int i = args.indexOf(name);
        if (i < 0) {
            return def;
        }
        String value = i + 1 < args.size() ? args.get(i + 1) : "";
        try {
            int v = Integer.parseInt(value);
            if (v < 0) {
                throw new NumberFormatException();
            }
            args.subList(i, i + 2).clear();
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " expects a non-negative integer, got '" + value + "'");
        }
    }

    /** {@code --name VALUE} from args (removed from the list), or the default. */
    public static String stringOption(List<String> args, String name, String def) {
        int i = args.indexOf(name);
        if (i < 0) {
            return def;
        }
        if (i + 1 >= args.size()) {
            throw new IllegalArgumentException(name + " expects a value");
        }
        String value = args.get(i + 1);
        args.subList(i, i + 2).clear();
        return value;
    }

    /** Fails on anything left over after the options were read. */
    public static void requireEmpty(List<String> args) {
        if (!args.isEmpty()) {
            throw new IllegalArgumentException("unknown arguments " + args);
        }
    }
}
