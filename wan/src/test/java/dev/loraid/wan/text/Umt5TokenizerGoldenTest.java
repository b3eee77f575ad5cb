package dev.loraid.wan.text;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every case of spm_tiny_cases.json (tokenizer.json) and spm_tiny_model_cases.json (spiece.model) must match
 * exactly: ids, pieces, padded ids and mask; for the model also sentencepiece's normalised text.
 */
class Umt5TokenizerGoldenTest {
    private static final String JSON = "spm_tiny_tokenizer.json";
    private static final String MODEL = "spm_tiny.model";

    @TestFactory
    List<DynamicTest> tokenizerJsonCases() throws IOException {
        Umt5Tokenizer tok = Umt5Tokenizer.load(GoldenCases.path(JSON));
        Map<String, Object> root = GoldenCases.read("spm_tiny_cases.json");
        int maxLength = (int) (long) (Long) root.get("max_length");
        List<DynamicTest> tests = new ArrayList<>();
        for (Map<String, Object> c : GoldenCases.list(root, "cases")) {
            String text = (String) c.get("text");
            String cleaned = (String) c.get("cleaned");
            tests.add(DynamicTest.dynamicTest("tokenizer.json: " + GoldenCases.show(text), () -> {
                assertEquals(cleaned, WanTextCleaner.cleanWithoutFtfy(text), "cleaned");
                TokenizedText t = tok.encode(cleaned, maxLength);
                String what = GoldenCases.show(cleaned);
                assertArrayEquals(GoldenCases.ints(c.get("ids")), t.ids(), what + ": ids " + Arrays.toString(t.ids()));
                assertEquals(GoldenCases.strings(c.get("pieces")), t.pieces(), what + ": pieces");
                assertArrayEquals(GoldenCases.ints(c.get("padded_ids")), t.paddedIds(), what + ": padded_ids");
                assertArrayEquals(GoldenCases.ints(c.get("padded_mask")), t.paddedMask(), what + ": padded_mask");
                // the full Wan cleaning (ftfy subset included) of the raw text gives the same ids
                assertArrayEquals(GoldenCases.ints(c.get("ids")), tok.encodeWan(text, maxLength).ids(), what + ": encodeWan ids");
            }));
        }
        // the model fixture's extra cases also record what this NFKC tokenizer.json pipeline gives
        for (Map<String, Object> c : GoldenCases.list(GoldenCases.read("spm_tiny_model_cases.json"), "extra_cases")) {
            String cleaned = (String) c.get("cleaned");
            tests.add(DynamicTest.dynamicTest("tokenizer.json extra: " + GoldenCases.show(cleaned), () ->
                    assertArrayEquals(GoldenCases.ints(c.get("tokenizer_json_ids")), tok.encode(cleaned, maxLength).ids(),
                            GoldenCases.show(cleaned) + ": " + c.get("note"))));
        }
        return tests;
    }

    @TestFactory
    List<DynamicTest> spieceModelCases() throws IOException {
        Umt5Tokenizer tok = Umt5Tokenizer.load(GoldenCases.path(MODEL));
        Map<String, Object> root = GoldenCases.read("spm_tiny_model_cases.json");
        int maxLength = (int) (long) (Long) root.get("max_length");
        List<DynamicTest> tests = new ArrayList<>();
        for (String group : List.of("cases", "extra_cases")) {
            for (Map<String, Object> c : GoldenCases.list(root, group)) {
                String text = (String) c.get("text");
                String cleaned = (String) c.get("cleaned");
                tests.add(DynamicTest.dynamicTest("spiece.model " + group + ": " + GoldenCases.show(text), () -> {
                    String what = GoldenCases.show(cleaned);
                    assertEquals(c.get("normalized"), tok.spmNormalized(cleaned), what + ": normalized");
                    TokenizedText t = tok.encode(cleaned, maxLength);
                    assertArrayEquals(GoldenCases.ints(c.get("ids")), t.ids(), what + ": ids " + Arrays.toString(t.ids()));
                    // sentencepiece's encode(out_type=str) reports the covered text for an unknown piece
                    assertEquals(GoldenCases.strings(c.get("pieces")), t.surfaces(), what + ": pieces");
                    assertArrayEquals(GoldenCases.ints(c.get("padded_ids")), t.paddedIds(), what + ": padded_ids");
                    assertArrayEquals(GoldenCases.ints(c.get("padded_mask")), t.paddedMask(), what + ": padded_mask");
                    if (group.equals("cases")) {
                        assertEquals(cleaned, WanTextCleaner.cleanWithoutFtfy(text), "cleaned");
                        assertArrayEquals(GoldenCases.ints(c.get("ids")), tok.encodeWan(text, maxLength).ids(), what + ": encodeWan ids");
                    }
                }));
            }
        }
        return tests;
    }

    @Test
    void spieceModelFieldsAreTheReadmes() throws Exception {
        SpmModelProto p = SpmModelProto.read(GoldenCases.path(MODEL));
        assertEquals(57, p.pieces().size());
        assertEquals(PieceType.CONTROL, p.types()[0]);
        assertEquals(PieceType.CONTROL, p.types()[1]);
        assertEquals(PieceType.UNKNOWN, p.types()[2]);
        for (int i = 3; i < 57; i++) {
            assertEquals(PieceType.NORMAL, p.types()[i], "piece " + i);
        }
        assertEquals("ca t", p.pieces().get(48));
        assertEquals(-1.0f, p.scores()[48]);
        assertEquals(SpmModelProto.UNIGRAM, p.modelType());
        assertEquals(false, p.byteFallback());
        assertEquals(List.of(2, -1, 1, 0), List.of(p.unkId(), p.bosId(), p.eosId(), p.padId()));
        assertEquals("nmt_nfkc", p.normalizerName());
        assertEquals(237_561, p.precompiledCharsmap().length);
        byte[] sha = java.security.MessageDigest.getInstance("SHA-256").digest(p.precompiledCharsmap());
        assertEquals(GoldenCases.read("spm_tiny_model_cases.json").get("precompiled_charsmap_sha256"), java.util.HexFormat.of().formatHex(sha));
        assertEquals(List.of(true, true, true), List.of(p.addDummyPrefix(), p.removeExtraWhitespaces(), p.escapeWhitespaces()));
        // the tokenizer.json fixture has the same pieces and scores (as float32)
        Umt5Tokenizer json = Umt5Tokenizer.load(GoldenCases.path(JSON));
        for (int i = 0; i < 57; i++) {
            assertEquals(json.piece(i), p.pieces().get(i), "piece " + i);
        }
    }
}
