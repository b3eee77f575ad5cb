package dev.loraid.cli;

import dev.loraid.tensor.json.Json;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code loraid tokenize}: the golden cases through the command line, both file formats; errors. */
class TokenizeCommandTest {
    private static Path golden(String name) {
        return Path.of(System.getProperty("loraid.testdata"), "golden", name);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> cases(String file) throws IOException {
        Map<String, Object> root = Json.parseObject(Files.readString(golden(file), StandardCharsets.UTF_8));
        return (List<Map<String, Object>>) root.get("cases");
    }

    @SuppressWarnings("unchecked")
    private static void assertGoldenCases(String tokenizer, String casesFile, boolean comparePieces) throws IOException {
        List<Map<String, Object>> cases = cases(casesFile);
        List<String> args = new ArrayList<>(List.of("tokenize", "--tokenizer", golden(tokenizer).toString(), "--max_length", "16", "--json"));
        for (Map<String, Object> c : cases) {
            args.add((String) c.get("text")); // raw: the command applies Wan's cleaning
        }
        CliRun r = CliRun.run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        List<Object> out = (List<Object>) Json.parse(r.out().strip());
        assertEquals(cases.size(), out.size());
        for (int i = 0; i < cases.size(); i++) {
            Map<String, Object> got = (Map<String, Object>) out.get(i);
            Map<String, Object> want = cases.get(i);
            assertEquals(List.of("ids", "pieces", "padded_ids", "padded_mask"), List.copyOf(got.keySet()));
            for (String k : List.of("ids", "padded_ids", "padded_mask")) {
                assertEquals(want.get(k), got.get(k), tokenizer + " case " + i + ": " + k);
            }
            if (comparePieces) {
                assertEquals(want.get("pieces"), got.get("pieces"), tokenizer + " case " + i + ": pieces");
            }
        }
    }

    @Test
    void tokenizerJsonGoldenCases() throws IOException {
        assertGoldenCases("spm_tiny_tokenizer.json", "spm_tiny_cases.json", true);
    }

    @Test
    void spieceModelGoldenCases() throws IOException {
        // the model cases' pieces are sentencepiece's covered text for unknowns; the command prints vocabulary strings
        assertGoldenCases("spm_tiny.model", "spm_tiny_model_cases.json", false);
        assertGoldenCases("spm_tiny.model", "spm_tiny_cases.json", true);
    }

    @Test
    void plainOutputAndNoClean() {
        String tok = golden("spm_tiny_tokenizer.json").toString();
        CliRun r = CliRun.run("tokenize", "--tokenizer", tok, "&amp;");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("ids: [3, 2, 1]"), r.out()); // cleaned to "&": ▁ <unk> </s>
        assertTrue(r.out().contains("seq_len: 3 of 512"), r.out());
        r = CliRun.run("tokenize", "--tokenizer", tok, "--no_clean", "&amp;");
        assertTrue(r.out().contains("ids: [3, 2, 12, 2, 1]"), r.out()); // ▁ <unk>(&) a <unk>(mp;) </s>
    }

    @Test
    void errors() {
        Path st = golden("wan_tiny_weights.safetensors");
        CliRun r = CliRun.run("tokenize", "--tokenizer", st.toString(), "hello");
        assertEquals(1, r.code());
        assertTrue(r.err().contains(st.toString()) && r.err().contains("safetensors"), r.err());
        assertEquals(2, CliRun.run("tokenize", "--tokenizer", golden("spm_tiny.model").toString()).code());
        assertEquals(2, CliRun.run("tokenize", "--tokenizer", golden("spm_tiny.model").toString(), "--max_length", "0", "x").code());
        assertEquals(2, CliRun.run("tokenize", "x").code());
    }
}
