package dev.loraid.core.data;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Where each key path ({@code general.batch_size}, {@code datasets[1]}, {@code datasets[1].batch_size}; array
 * indices from 0) is written in a dataset config, for error messages (spec training.md §4.1).
 *
 * <p>JSON: recorded from Jackson's streaming parser (token locations). TOML: Jackson's TOML module builds a tree
 * and drops locations, so {@link #ofToml} scans the lines for table headers and {@code key =} starts only; the
 * values themselves always come from Jackson. The scan knows strings, comments, multi-line strings and
 * multi-line arrays well enough not to mistake their contents for keys; a key it cannot place (e.g. inside an
 * inline table) falls back to its nearest located parent.
 */
final class KeyLocations {
    /** 1-based line and column. */
    record Location(int line, int column) {
    }

    private final Map<String, Location> byPath = new HashMap<>();
    private String duplicatePath;
    private Location duplicate;

    private KeyLocations() {
    }

    /** The location of {@code path} or of its nearest located parent, or null. */
    Location find(String path) {
        String p = path;
        while (!p.isEmpty()) {
            Location l = byPath.get(p);
            if (l != null) {
                return l;
            }
            int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
            p = cut < 0 ? "" : p.substring(0, cut);
        }
        return null;
    }

    private void put(String path, int line, int column) {
        Location l = new Location(line, column);
        if (byPath.putIfAbsent(path, l) != null && duplicate == null) {
            duplicatePath = path;
            duplicate = l;
        }
    }

    /** The first key path written twice (TOML; Jackson's "Duplicate key" names neither key nor line), or null. */
    String duplicatePath() {
        return duplicatePath;
    }

    /** Where {@link #duplicatePath} is written the second time. */
    Location duplicate() {
        return duplicate;
    }

    // ---- JSON ----

    /** Locations from Jackson's token stream; throws what the parser throws on a syntax error. */
    static KeyLocations ofJson(String text) throws IOException {
        KeyLocations out = new KeyLocations();
        try (JsonParser p = new JsonFactory().createParser(text)) {
            if (p.nextToken() != null) {
                out.walk(p, "");
            }
        }
        return out;
    }

    private void walk(JsonParser p, String prefix) throws IOException {
        JsonToken t = p.currentToken();
        if (t == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String path = prefix.isEmpty() ? p.currentName() : prefix + "." + p.currentName();
                put(path, p.currentTokenLocation());
                p.nextToken();
                walk(p, path);
            }
        } else if (t == JsonToken.START_ARRAY) {
            int i = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
                String path = prefix + "[" + i++ + "]";
                put(path, p.currentTokenLocation());
                walk(p, path);
            }
        }
    }

    private void put(String path, JsonLocation l) {
        put(path, l.getLineNr(), l.getColumnNr());
    }

    // ---- TOML ----

    /** Table headers and {@code key =} lines of a TOML document (see the class comment). */
    static KeyLocations ofToml(String text) {
        KeyLocations out = new KeyLocations();
        Map<String, Integer> arrayCounts = new HashMap<>();
        String prefix = "";
        Scan scan = new Scan();
        String[] lines = text.split("\r?\n", -1);
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n];
            if (scan.multilineDelimiter != null || scan.depth > 0) {
                scan.scan(line, 0); // continuation of a value started above
                continue;
            }
            int start = 0;
            while (start < line.length() && (line.charAt(start) == ' ' || line.charAt(start) == '\t')) {
                start++;
            }
            String t = line.substring(start);
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            if (t.startsWith("[[")) {
                int end = t.indexOf("]]");
                String name = normalizeKey(t.substring(2, end < 0 ? t.length() : end));
                int index = arrayCounts.merge(name, 1, Integer::sum) - 1;
                prefix = name + "[" + index + "]";
                out.byPath.putIfAbsent(name, new Location(n + 1, start + 1)); // repeats by design
                out.put(prefix, n + 1, start + 1);
            } else if (t.startsWith("[")) {
                int end = t.indexOf(']');
                prefix = normalizeKey(t.substring(1, end < 0 ? t.length() : end));
                out.put(prefix, n + 1, start + 1);
            } else {
                int eq = keyEnd(t);
                if (eq < 0) {
                    continue;
                }
                String key = normalizeKey(t.substring(0, eq));
                out.put(prefix.isEmpty() ? key : prefix + "." + key, n + 1, start + 1);
                scan.scan(t, eq + 1);
            }
        }
        return out;
    }

    /** Index of the '=' that ends a key (outside quotes), or -1. */
    private static int keyEnd(String t) {
        char quote = 0;
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '=') {
                return i;
            }
        }
        return -1;
    }

    /** {@code a . "b"} → {@code a.b}. */
    private static String normalizeKey(String raw) {
        StringBuilder sb = new StringBuilder();
        for (String part : raw.split("\\.")) {
            String s = part.strip();
            if (s.length() >= 2 && (s.startsWith("\"") && s.endsWith("\"") || s.startsWith("'") && s.endsWith("'"))) {
                s = s.substring(1, s.length() - 1);
            }
            if (!sb.isEmpty()) {
                sb.append('.');
            }
            sb.append(s);
        }
        return sb.toString();
    }

    /** Bracket depth and open multi-line string carried from one line to the next. */
    private static final class Scan {
        int depth;
        String multilineDelimiter;

        void scan(String s, int from) {
            int i = from;
            if (multilineDelimiter != null) {
                int end = s.indexOf(multilineDelimiter);
                if (end < 0) {
                    return;
                }
                i = end + 3;
                multilineDelimiter = null;
            }
            while (i < s.length()) {
                char c = s.charAt(i);
                if (s.startsWith("\"\"\"", i) || s.startsWith("'''", i)) {
                    String d = s.substring(i, i + 3);
                    int end = s.indexOf(d, i + 3);
                    if (end < 0) {
                        multilineDelimiter = d;
                        return;
                    }
                    i = end + 3;
                } else if (c == '"' || c == '\'') {
                    i = skipString(s, i, c);
                } else if (c == '#') {
                    return;
                } else {
                    if (c == '[' || c == '{') {
                        depth++;
                    } else if ((c == ']' || c == '}') && depth > 0) {
                        depth--;
                    }
                    i++;
                }
            }
        }

        private static int skipString(String s, int open, char quote) {
            for (int i = open + 1; i < s.length(); i++) {
                char c = s.charAt(i);
                if (quote == '"' && c == '\\') {
                    i++;
                } else if (c == quote) {
                    return i + 1;
                }
            }
            return s.length();
        }
    }
}
