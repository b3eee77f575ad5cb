package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --optimizer_args} items ({@code key=value}, values Python literals as upstream's {@code ast.literal_eval} reads
 * them) as typed values for one optimizer: each getter takes the key's default and its range, and an error names the
 * item and what it must be. A key the optimizer does not take is refused naming the keys it does; a repeated key keeps
 * its last value (a Python dict).
 */
final class OptimizerArgs {
    private final Map<String, String> values = new LinkedHashMap<>();
    private final Map<String, String> items = new LinkedHashMap<>();

    private OptimizerArgs() {
    }

    /** Splits {@code items} at their first '=' and checks every key is one of {@code keys} (which {@code optimizer} takes). */
    static OptimizerArgs parse(List<String> items, String optimizer, List<String> keys) {
        OptimizerArgs a = new OptimizerArgs();
        for (String item : items) {
            int eq = item.indexOf('=');
            if (eq < 0) {
                throw new ParameterException(named(param("OptimizerConfig.args"), " item '" + item + "' must be key=value"));
            }
            String k = item.substring(0, eq).strip();
            if (!keys.contains(k)) {
                throw new ParameterException(named(param("OptimizerConfig.args"), ": " + optimizer + " takes "
                        + String.join(", ", keys) + ", not '" + k + "'"));
            }
            a.values.put(k, item.substring(eq + 1).strip());
            a.items.put(k, item);
        }
        return a;
    }

    /** A number in [min, max]; {@code range} says so in words. */
    double number(String key, double dflt, double min, double max, String range) {
        String v = values.get(key);
        return v == null ? dflt : number(key, v, min, max, range);
    }

    /** A number in [min, max], or null for Python's None. */
    Double numberOrNone(String key, Double dflt, double min, double max, String range) {
        String v = values.get(key);
        return v == null ? dflt : v.equals("None") ? null : number(key, v, min, max, range + " or None");
    }

    /** A whole number ≥ min. */
    long integer(String key, long dflt, long min) {
        String v = values.get(key);
        if (v == null) {
            return dflt;
        }
        double d = number(key, v, min, Long.MAX_VALUE, "an integer ≥ " + min);
        if (d != Math.rint(d)) {
            throw fail(key, "must be an integer ≥ " + min);
        }
        return (long) d;
    }

    /** A tuple or list of two numbers, "(a, b)", each in [min, max]. */
    double[] pair(String key, double first, double second, double min, double max, String range) {
        String v = values.get(key);
        if (v == null) {
            return new double[] {first, second};
        }
        String[] parts = v.replaceAll("[()\\[\\]\\s]", "").split(",");
        if (parts.length != 2) {
            throw fail(key, "expected a pair (a, b), got " + v);
        }
        return new double[] {number(key, parts[0], min, max, range), number(key, parts[1], min, max, range)};
    }

    /** A Python bool literal, True or False. */
    boolean bool(String key, boolean dflt) {
        String v = values.get(key);
        if (v == null) {
            return dflt;
        }
        return switch (v) {
            case "True" -> true;
            case "False" -> false;
            default -> throw fail(key, "expected True or False (Python literals), got '" + v + "'");
        };
    }

    /** Whether the key was given. */
    boolean has(String key) {
        return values.containsKey(key);
    }

    /** The raw value of {@code key} (null when not given). */
    String raw(String key) {
        return values.get(key);
    }

    /** A refusal of {@code key}'s item, saying why. */
    ParameterException fail(String key, String why) {
        return new ParameterException(named(param("OptimizerConfig.args"), " " + items.get(key) + ": " + why));
    }

    private double number(String key, String v, double min, double max, String range) {
        double d;
        try {
            d = Double.parseDouble(v.strip());
        } catch (NumberFormatException e) {
            throw fail(key, "expected a number, got '" + v + "'");
        }
        if (!(d >= min && d <= max)) {
            throw fail(key, "must be " + range + ", got " + v.strip());
        }
        return d;
    }
}
