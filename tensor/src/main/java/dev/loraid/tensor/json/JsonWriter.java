package dev.loraid.tensor.json;

import java.util.Collection;
import java.util.Map;

/**
 * Writes maps, lists, strings, numbers, booleans and null as JSON, either compact (the byte layout safetensors
 * headers use: no spaces, {@code ","} and {@code ":"} separators) or indented for people. Strings are escaped
 * minimally, as serde_json and Python's {@code json.dumps} do for ASCII: {@code \" \\ \b \f \n \r \t}, other
 * control characters as {@code \}{@code u00xx}; non-ASCII text is written as is (the caller encodes UTF-8).
 *
 * <pre>{@code
 * String header = JsonWriter.compact(Map.of("dtype", "F32", "shape", List.of(2L, 3L)));
 * }</pre>
 */
public final class JsonWriter {
    private final StringBuilder out = new StringBuilder();
    private final String indent;

    private JsonWriter(String indent) {
        this.indent = indent;
    }

    /** No whitespace at all. */
    public static String compact(Object value) {
        JsonWriter w = new JsonWriter(null);
        w.value(value, 0);
        return w.out.toString();
    }

    /** Two-space indentation, one member per line. */
    public static String pretty(Object value) {
        JsonWriter w = new JsonWriter("  ");
        w.value(value, 0);
        return w.out.toString();
    }

    /** Appends {@code s} as a quoted JSON string. */
    public static void appendString(StringBuilder sb, String s) {
        sb.append('"');
        int runStart = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String esc = switch (c) {
                case '"' -> "\\\"";
                case '\\' -> "\\\\";
                case '\b' -> "\\b";
                case '\f' -> "\\f";
                case '\n' -> "\\n";
                case '\r' -> "\\r";
                case '\t' -> "\\t";
                default -> c < 0x20 ? String.format("\\u%04x", (int) c) : null;
            };
            if (esc == null && Character.isSurrogate(c)) {
                boolean paired = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
                if (!paired) {
                    throw new IllegalArgumentException("string has a lone surrogate at index " + i + ": cannot be written as UTF-8 JSON");
                }
                i++;
                continue;
            }
            if (esc != null) {
                sb.append(s, runStart, i).append(esc);
                runStart = i + 1;
            }
        }
        sb.append(s, runStart, s.length()).append('"');
    }

    private void value(Object v, int level) {
        switch (v) {
            case null -> out.append("null");
            case String s -> appendString(out, s);
            case Boolean b -> out.append(b);
            case Long l -> out.append(l);
            case Integer i -> out.append(i);
            case Short sh -> out.append(sh);
            case Byte by -> out.append(by);
            case Number n -> {
                double d = n.doubleValue();
                if (!Double.isFinite(d)) {
                    throw new IllegalArgumentException("JSON has no representation for " + d);
                }
                out.append(d);
            }
            case Map<?, ?> m -> {
                out.append('{');
                boolean first = true;
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!(e.getKey() instanceof String key)) {
                        throw new IllegalArgumentException("JSON object keys must be strings, got " + e.getKey());
                    }
                    separator(first, level + 1);
                    first = false;
                    appendString(out, key);
                    out.append(indent == null ? ":" : ": ");
                    value(e.getValue(), level + 1);
                }
                close(first, level, '}');
            }
            case Collection<?> c -> {
                out.append('[');
                boolean first = true;
                for (Object x : c) {
                    separator(first, level + 1);
                    first = false;
                    value(x, level + 1);
                }
                close(first, level, ']');
            }
            case long[] a -> {
                out.append('[');
                for (int i = 0; i < a.length; i++) {
                    out.append(i == 0 ? "" : indent == null ? "," : ", ").append(a[i]);
                }
                out.append(']');
            }
            default -> throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
        }
    }

    private void separator(boolean first, int level) {
        if (!first) {
            out.append(',');
        }
        newline(level);
    }

    private void close(boolean empty, int level, char bracket) {
        if (!empty) {
            newline(level);
        }
        out.append(bracket);
    }

    private void newline(int level) {
        if (indent != null) {
            out.append('\n').append(indent.repeat(level));
        }
    }
}
