package dev.loraid.tensor.json;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonTest {
    @Test
    void parsesEveryValueKind() {
        Map<String, Object> m = Json.parseObject(" {\"b\": [1, -2, 3.5, -0.0, 1e3, 12345678901234567890], \"a\": \"x\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\","
            + " \"t\": true, \"f\": false, \"n\": null, \"o\": {}} ");
        assertEquals(List.of("b", "a", "t", "f", "n", "o"), List.copyOf(m.keySet()), "document order");
        assertEquals(List.of(1L, -2L, 3.5, -0.0, 1000.0, 1.2345678901234567e19), m.get("b"));
        assertEquals("x\"\\/\b\f\n\r\té😀", m.get("a"));
        assertEquals(Boolean.TRUE, m.get("t"));
        assertEquals(Boolean.FALSE, m.get("f"));
        assertNull(m.get("n"));
        assertEquals(Map.of(), m.get("o"));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
    }

    @Test
    void rejectsWhatRfc8259Rejects() {
        for (String bad : List.of("", " ", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "01", "1.", ".5", "-", "+1", "1e", "NaN",
            "Infinity", "tru", "nul", "\"a", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00x\"", "\"\t\"", "[1 2]",
            "{\"a\" 1}", "{1:2}", "1 2", "{\"a\":1}}", "\"\\ud800\\u0041\"", "1e400", "/*c*/1", "\"\\u00G0\"")) {
            assertThrows(JsonFormatException.class, () -> Json.parse(bad), () -> "accepted: " + bad);
        }
        JsonFormatException dup = assertThrows(JsonFormatException.class, () -> Json.parse("{\"a\":1,\"a\":2}"));
        assertTrue(dup.getMessage().contains("duplicate key \"a\"") && dup.offset() == 7, dup.getMessage());
    }

    @Test
    void depthIsBoundedWithoutStackOverflow() {
        String deep = "[".repeat(100_000) + "]".repeat(100_000);
        JsonFormatException e = assertThrows(JsonFormatException.class, () -> Json.parse(deep));
        assertTrue(e.getMessage().contains("nesting deeper than 64"), e.getMessage());
        assertEquals(List.of(List.of()), Json.parse("[[]]", 2));
        assertThrows(JsonFormatException.class, () -> Json.parse("[[[]]]", 2));
    }

    @Test
    void writerOutputParsesBackToTheSameValue() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("s", "quote\" backslash\\ nl\n tab\t ctl\u0001 del\u007f é 😀");
        m.put("n", List.of(1L, -2L, 0.25, Long.MAX_VALUE));
        m.put("nested", Map.of("k", List.of()));
        m.put("z", null);
        m.put("b", true);
        String compact = JsonWriter.compact(m);
        assertTrue(compact.contains("\"quote\\\" backslash\\\\ nl\\n tab\\t ctl\\u0001 del\u007f é 😀\""), compact);
        assertEquals(m, Json.parse(compact));
        assertEquals(m, Json.parse(JsonWriter.pretty(m)));
        assertEquals("[1,2]", JsonWriter.compact(new long[] {1, 2}));
        Map<String, Object> small = new LinkedHashMap<>();
        small.put("a", List.of(1L));
        small.put("e", Map.of());
        assertEquals("{\n  \"a\": [\n    1\n  ],\n  \"e\": {}\n}", JsonWriter.pretty(small));
        assertThrows(IllegalArgumentException.class, () -> JsonWriter.compact("lone \ud800"));
        assertThrows(IllegalArgumentException.class, () -> JsonWriter.compact(Double.NaN));
        assertEquals("[\"x\"]", JsonWriter.compact(Arrays.asList("x")));
    }
}
