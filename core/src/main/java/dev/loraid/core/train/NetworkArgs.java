package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import dev.loraid.core.Reporter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --network_args "k=v" …} (training.md §2.4): include/exclude patterns as Python list literals, rank and
 * module dropout, the LoRA+ ratio, verbose, and LoKr's {@code factor} (§2.10; an integer, −1 = balanced). Each item must hold exactly one {@code =}. Keys upstream accepts but that
 * do nothing for Wan's Linear-only blocks (conv_dim, conv_alpha) are accepted with a warning; unknown keys are errors.
 *
 * @param factor LoKr's factor, null when not given
 * @param raw the items as given, for {@code ss_network_args} (upstream stores the raw strings)
 */
public record NetworkArgs(List<String> includePatterns, List<String> excludePatterns, double rankDropout,
        double moduleDropout, Double loraPlusLrRatio, boolean verbose, Integer factor, Map<String, String> raw) {

    public static NetworkArgs parse(List<String> items, Reporter reporter) {
        Map<String, String> raw = new LinkedHashMap<>();
        for (String item : items) {
            int eq = item.indexOf('=');
            if (eq < 0 || item.indexOf('=', eq + 1) >= 0) {
                throw new ParameterException(named(param("NetworkConfig.args"), " item '" + item
                        + "' must be key=value with exactly one '='"));
            }
            raw.put(item.substring(0, eq).strip(), item.substring(eq + 1).strip());
        }
        List<String> include = List.of();
        List<String> exclude = List.of();
        double rank = 0;
        double module = 0;
        Double plus = null;
        boolean verbose = false;
        Integer factor = null;
        for (var e : raw.entrySet()) {
            String k = e.getKey();
            String v = e.getValue();
            switch (k) {
                case "include_patterns" -> include = pythonStringList(k, v);
                case "exclude_patterns" -> exclude = pythonStringList(k, v);
                case "rank_dropout" -> rank = probability(k, v);
                case "module_dropout" -> module = probability(k, v);
                case "loraplus_lr_ratio" -> {
                    plus = number(k, v);
                    if (!(plus > 0)) {
                        throw new ParameterException(named(param("NetworkConfig.args"),
                                " loraplus_lr_ratio must be > 0, got " + v));
                    }
                }
                case "verbose" -> verbose = v.equals("True");
                case "factor" -> factor = integer(k, v);
                case "conv_dim", "conv_alpha" -> reporter.warn(named(param("NetworkConfig.args"), " " + k
                        + " is ignored: Wan blocks have no convolutions"));
                default -> throw new ParameterException(named(param("NetworkConfig.args"), ": unknown key '" + k
                        + "' (known: include_patterns, "
                        + "exclude_patterns, rank_dropout, module_dropout, loraplus_lr_ratio, verbose, factor, conv_dim, conv_alpha)"));
            }
        }
        return new NetworkArgs(include, exclude, rank, module, plus, verbose, factor, raw);
    }

    private static int integer(String key, String v) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new ParameterException(named(param("NetworkConfig.args"), " " + key + ": expected an integer, got '"
                    + v + "'"));
        }
    }

    private static double number(String key, String v) {
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new ParameterException(named(param("NetworkConfig.args"), " " + key + ": expected a number, got '"
                    + v + "'"));
        }
    }

    private static double probability(String key, String v) {
        double p = number(key, v);
        if (!(p >= 0 && p < 1)) {
            throw new ParameterException(named(param("NetworkConfig.args"), " " + key + " must be in [0, 1), got " + v));
        }
        return p;
    }

    /** A Python list literal of string literals (plain or r'…' raw), e.g. {@code ['blocks\\.1\\..*', r".*ffn.*"]}. */
    static List<String> pythonStringList(String key, String v) {
        String s = v.strip();
        if (!s.startsWith("[") || !s.endsWith("]")) {
            throw new ParameterException(named(param("NetworkConfig.args"), " " + key
                    + ": expected a Python list of strings like "
                    + "['a', 'b'], got " + v));
        }
        List<String> out = new ArrayList<>();
        int i = 1;
        int end = s.length() - 1;
        while (true) {
            while (i < end && (Character.isWhitespace(s.charAt(i)))) {
                i++;
            }
            if (i >= end) {
                break;
            }
            boolean raw = (s.charAt(i) == 'r' || s.charAt(i) == 'R') && i + 1 < end;
            if (raw) {
                i++; // r'…': Python's raw string, backslashes kept as they are
            }
            char q = s.charAt(i);
            if (q != '\'' && q != '"') {
                throw new ParameterException(named(param("NetworkConfig.args"), " " + key
                        + ": expected a quoted string at position " + i + " of " + v));
            }
            StringBuilder sb = new StringBuilder();
            i++;
            while (i < end && s.charAt(i) != q) {
                char c = s.charAt(i);
                if (c == '\\' && i + 1 < end) {
                    char n = s.charAt(i + 1);
                    if (raw) { // a raw string keeps the backslash, and a quote after it does not end the string
                        sb.append(c).append(n);
                        i += 2;
                        continue;
                    }
                    // Python keeps unknown escapes (\. stays \.) and resolves \\ and quotes
                    if (n == '\\' || n == '\'' || n == '"') {
                        sb.append(n);
                        i += 2;
                        continue;
                    }
                }
                sb.append(c);
                i++;
            }
            if (i >= end) {
                throw new ParameterException(named(param("NetworkConfig.args"), " " + key
                        + ": unterminated string in " + v));
            }
            out.add(sb.toString());
            i++;
            while (i < end && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            if (i < end && s.charAt(i) == ',') {
                i++;
            } else if (i < end) {
                throw new ParameterException(named(param("NetworkConfig.args"), " " + key
                        + ": expected ',' at position " + i + " of " + v));
            }
        }
        return List.copyOf(out);
    }
}
