package dev.loraid.wan.text;

import dev.loraid.tensor.json.Json;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The tokenizer golden files under testdata/golden (README sections "Unigram tokenizer (tiny)" and "SentencePiece model"). */
final class GoldenCases {
    private GoldenCases() {
    }

    static Path path(String name) {
        return Path.of(System.getProperty("loraid.testdata"), "golden", name);
    }

    static Map<String, Object> read(String name) throws IOException {
        return Json.parseObject(Files.readString(path(name), StandardCharsets.UTF_8));
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> list(Map<String, Object> root, String key) {
        return root.get(key) == null ? List.of() : (List<Map<String, Object>>) root.get(key);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    static int[] ints(Object list) {
        return ((List<?>) list).stream().mapToInt(o -> (int) Json.asLong(o)).toArray();
    }

    @SuppressWarnings("unchecked")
    static List<String> strings(Object list) {
        return (List<String>) list;
    }

    /** A case's text with its non-ASCII characters spelled as U+XXXX, for test names and messages. */
    static String show(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(c -> {
            if (c >= 0x20 && c < 0x7F) {
                b.appendCodePoint(c);
            } else {
                b.append(String.format("<U+%04X>", c));
            }
        });
        return b.toString();
    }
}
