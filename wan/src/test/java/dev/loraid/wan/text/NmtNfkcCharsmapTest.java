package dev.loraid.wan.text;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * The spm_tiny.model charsmap (nmt_nfkc) is read from the file and applied, not replaced by NFKC: the 104 code
 * points where the golden README's sweep found nmt_nfkc and NFKC disagree (each between two letters).
 */
class NmtNfkcCharsmapTest {
    private static Umt5Tokenizer spm;

    @BeforeAll
    static void load() throws IOException {
        spm = Umt5Tokenizer.load(GoldenCases.path("spm_tiny.model"));
    }

    private static String between(int c) {
        return spm.spmNormalized("a" + Character.toString(c) + "b");
    }

    @Test
    void theReadmes104DisagreementsFollowTheCharsmap() {
        List<Integer> deleted = new ArrayList<>();
        for (int c = 0x01; c <= 0x08; c++) {
            deleted.add(c);
        }
        deleted.add(0x0B);
        for (int c = 0x0E; c <= 0x1F; c++) {
            deleted.add(c);
        }
        deleted.addAll(List.of(0x7F, 0x8F, 0x9F));
        List<Integer> space = List.of(0x09, 0x0A, 0x0C, 0x0D, 0x1680, 0x200B, 0x200C, 0x200E, 0x200F, 0x2028, 0x2029, 0xFEFF, 0xFFFD);
        List<Integer> kept = new ArrayList<>(List.of(0xFF5E, 0xA7F2, 0xA7F3, 0xA7F4));
        for (int c = 0x10781; c <= 0x107BA; c++) {
            if (Character.isDefined(c)) {
                kept.add(c);
            }
        }
        assertEquals(30, deleted.size());
        assertEquals(60, kept.size(), "3 + 56 Unicode 14 modifier letters + U+FF5E");
        for (int c : deleted) {
            assertEquals("\u2581ab", between(c), String.format("U+%04X is deleted", c));
        }
        for (int c : space) {
            assertEquals("\u2581a\u2581b", between(c), String.format("U+%04X becomes a word break", c));
        }
        for (int c : kept) {
            assertEquals("\u2581a" + Character.toString(c) + "b", between(c), String.format("U+%04X is kept", c));
            assertNotEquals(Character.toString(c), Normalizer.normalize(Character.toString(c), Normalizer.Form.NFKC),
                    String.format("U+%04X: NFKC maps it", c));
        }
        assertEquals("\u2581x\u0308\u0301b", spm.spmNormalized("x\u0344b"), "U+0344 decomposes without composing");
        assertEquals("\u2581a\u200Db", between(0x200D), "ZWJ is kept");
        assertEquals(104, deleted.size() + space.size() + kept.size() + 1);
    }

    @Test
    void whereNfkcAgreesTheCharsmapDoesToo() {
        for (String s : List.of("\uFB01", "\u2460", "\uFF43\uFF41\uFF54", "cafe\u0301", "\u00BD", "\u3300", "\u2163", "\uFF76\uFF9E")) {
            String nfkc = Normalizer.normalize(s, Normalizer.Form.NFKC);
            assertEquals("\u2581" + nfkc, spm.spmNormalized(s), GoldenCases.show(s));
        }
    }

    @Test
    void sentencepieceWhitespaceRules() {
        assertEquals("", spm.spmNormalized(" \t \u3000 "));
        assertEquals("\u2581a\u2581b", spm.spmNormalized("  a \n\t b  "));
        assertEquals("", spm.spmNormalized("\u0007"), "a text that normalises to nothing has no dummy prefix either");
    }
}
