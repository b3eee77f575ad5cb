package dev.loraid.core;

import java.util.Collection;
import java.util.Map;
import java.util.StringJoiner;

/** Writes the small JSON values stored in safetensors metadata strings (pattern lists, merge records). */
public final class JsonText {
    private JsonText() {
    }

    /** A JSON string literal. */
    public static String quote(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    /** A JSON array of strings, e.g. {@code ["a", "b"]}. */
    public static String stringArray(Collection<String> values) {
        StringJoiner j = new StringJoiner(", ", "[", "]");
        values.forEach(v -> j.add(quote(v)));
        return j.toString();
    }

    /** A JSON array of numbers. */
    public static String numberArray(Collection<? extends Number> values) {
        StringJoiner j = new StringJoiner(", ", "[", "]");
        values.forEach(v -> j.add(v.toString()));
        return j.toString();
    }

    /**
     * A JSON object from already-encoded values, in map order: {@code Map.of("a", quote("x"))} → {@code {"a": "x"}}.
     */
    public static String object(Map<String, String> encodedValues) {
        StringJoiner j = new StringJoiner(", ", "{", "}");
        encodedValues.forEach((k, v) -> j.add(quote(k) + ": " + v));
        return j.toString();
    }
}
