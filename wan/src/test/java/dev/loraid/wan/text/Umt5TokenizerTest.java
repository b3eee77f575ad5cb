package dev.loraid.wan.text;

import dev.loraid.tensor.json.JsonWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading rules, errors, Wan's 512 truncation, special tokens in text, byte fallback. */
class Umt5TokenizerTest {
    @TempDir
    Path dir;

    /** A mutable copy of the tokenizer.json fixture's top level. */
    private static Map<String, Object> golden() throws IOException {
        return new LinkedHashMap<>(GoldenCases.read("spm_tiny_tokenizer.json"));
    }

    private static Umt5Tokenizer json() throws IOException {
        return Umt5Tokenizer.load(GoldenCases.path("spm_tiny_tokenizer.json"));
    }

    @Test
    void aFolderPrefersTokenizerJsonOverSpieceModel() throws IOException {
        Files.copy(GoldenCases.path("spm_tiny.model"), dir.resolve("spiece.model"));
        assertEquals("spiece.model", Umt5Tokenizer.load(dir).format());
        Files.copy(GoldenCases.path("spm_tiny_tokenizer.json"), dir.resolve("tokenizer.json"));
        assertEquals("tokenizer.json", Umt5Tokenizer.load(dir).format());
        assertEquals(57, Umt5Tokenizer.load(dir).vocabSize());
    }

    @Test
    void theKindIsReadFromTheContentsNotTheName() throws IOException {
        Path renamed = Files.copy(GoldenCases.path("spm_tiny.model"), dir.resolve("tokenizer.json"));
        assertEquals("spiece.model", Umt5Tokenizer.load(renamed).format());
    }

    @Test
    void otherFilesAreClearErrorsNamingTheFile() throws IOException {
        Path st = GoldenCases.path("wan_tiny_weights.safetensors");
        TokenizerFileException e = assertThrows(TokenizerFileException.class, () -> Umt5Tokenizer.load(st));
        assertTrue(e.getMessage().contains(st.toString()) && e.getMessage().contains("safetensors"), e.getMessage());

        Path bpe = Files.writeString(dir.resolve("bpe.json"),
                "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}");
        e = assertThrows(TokenizerFileException.class, () -> Umt5Tokenizer.load(bpe));
        assertTrue(e.getMessage().contains(bpe.toString()) && e.getMessage().contains("'BPE'"), e.getMessage());

        Path notJson = Files.writeString(dir.resolve("broken.json"), "{\"model\": ");
        e = assertThrows(TokenizerFileException.class, () -> Umt5Tokenizer.load(notJson));
        assertTrue(e.getMessage().contains(notJson.toString()) && e.getMessage().contains("JSON"), e.getMessage());

        Path text = Files.writeString(dir.resolve("notes.txt"), "hello, this is not a tokenizer\n");
        e = assertThrows(TokenizerFileException.class, () -> Umt5Tokenizer.load(text));
        assertTrue(e.getMessage().contains(text.toString()), e.getMessage());

        Path empty = Files.createDirectory(dir.resolve("empty"));
        e = assertThrows(TokenizerFileException.class, () -> Umt5Tokenizer.load(empty));
        assertTrue(e.getMessage().contains("neither tokenizer.json nor spiece.model"), e.getMessage());

        Map<String, Object> bert = golden();
        bert.put("normalizer", Map.of("type", "BertNormalizer"));
        Path wordPiece = Files.writeString(dir.resolve("norm.json"), JsonWriter.compact(bert));
        e = assertThrows(TokenizerFileException.class, () -> Umt5Tokenizer.load(wordPiece));
        assertTrue(e.getMessage().contains("normalizer.type 'BertNormalizer'"), e.getMessage());
    }

    @Test
    void wanLengthKeeps511PiecesThenEos() throws IOException {
        for (Umt5Tokenizer tok : List.of(json(), Umt5Tokenizer.load(GoldenCases.path("spm_tiny.model")))) {
            TokenizedText t = tok.encode("the cat ".repeat(300).strip(), Umt5Tokenizer.WAN_TEXT_LEN);
            assertEquals(601, t.ids().length);
            int[] p = t.paddedIds();
            assertEquals(512, p.length);
            assertEquals(512, t.seqLen());
            assertEquals(1, p[511], "</s> last");
            assertEquals(15, p[509]);
            assertEquals(4, p[510]);
            TokenizedText shortOne = tok.encode("the cat", 512);
            assertEquals(3, shortOne.seqLen());
            assertEquals(0, shortOne.paddedIds()[3]);
            assertEquals(0, shortOne.paddedMask()[511]);
        }
        assertThrows(IllegalArgumentException.class, () -> json().encode("x", 0));
    }

    @Test
    void specialTokensInTheTextAreMatchedFirst() throws IOException {
        // each chunk around "</s>" is pre-tokenized on its own, so "cat" gets its own "▁"
        assertArrayEquals(new int[] {4, 1, 15, 1}, json().encode("the</s>cat", 16).ids());
        assertArrayEquals(new int[] {4, 1, 15, 1},
                Umt5Tokenizer.load(GoldenCases.path("spm_tiny.model")).encode("the</s>cat", 16).ids());
    }

    @Test
    void byteFallbackSpellsUnknownsAsBytes() throws IOException {
        Map<String, Object> root = golden();
        Map<String, Object> model = new LinkedHashMap<>(GoldenCases.map(root.get("model")));
        List<Object> vocab = new ArrayList<>((List<?>) model.get("vocab"));
        for (String b : List.of("<0xE2>", "<0x98>", "<0x83>")) {
            vocab.add(List.of(b, 0.0));
        }
        model.put("vocab", vocab);
        model.put("byte_fallback", true);
        root.put("model", model);
        Path f = Files.writeString(dir.resolve("bf.json"), JsonWriter.compact(root));
        Umt5Tokenizer tok = Umt5Tokenizer.load(f);
        assertEquals(60, tok.vocabSize());
        // U+2603 is E2 98 83; two of them fuse into one unknown, then six byte pieces
        TokenizedText t = tok.encode("the \u2603\u2603", 16);
        assertArrayEquals(new int[] {4, 3, 57, 58, 59, 57, 58, 59, 1}, t.ids());
        assertEquals("<0xE2>", t.pieces().get(2));
        // a character with a missing byte piece stays <unk>
        assertArrayEquals(new int[] {3, 2, 1}, tok.encode("\u00E4", 16).ids());
    }

    @Test
    void sentencepieceFlavourByteFallbackAndUnusedPieces() {
        List<String> pieces = List.of("<unk>", "\u2581", "a", "ab", "<0x62>");
        double[] scores = {0, -1, -2, -1, 0};
        PieceType[] types = {PieceType.UNKNOWN, PieceType.NORMAL, PieceType.NORMAL, PieceType.UNUSED, PieceType.BYTE};
        UnigramModel m = new UnigramModel(UnigramModel.Flavor.SENTENCEPIECE, pieces, scores, types, 0, true);
        // "ab" is UNUSED (never matches); "b" has no piece: byte fallback gives <0x62>
        assertEquals(List.of(new UnigramModel.Segment(1, "\u2581"), new UnigramModel.Segment(2, "a"), new UnigramModel.Segment(4, "<0x62>")),
                m.encode("\u2581ab"));
        UnigramModel hf = new UnigramModel(UnigramModel.Flavor.HF_TOKENIZERS, pieces, scores, types, 0, false);
        assertEquals(List.of(new UnigramModel.Segment(1, "\u2581"), new UnigramModel.Segment(3, "ab")), hf.encode("\u2581ab"));
    }

    @Test
    void tiesKeepTheEarlierCandidate() {
        // "a"+"b" (−2) ties "ab" (−2): "ab" reaches end 2 first (from start 0) and the equal candidate from
        // start 1 does not replace it (strictly greater only)
        List<String> pieces = List.of("<unk>", "a", "b", "ab");
        double[] scores = {0, -1, -1, -2};
        PieceType[] types = {PieceType.UNKNOWN, PieceType.NORMAL, PieceType.NORMAL, PieceType.NORMAL};
        UnigramModel m = new UnigramModel(UnigramModel.Flavor.HF_TOKENIZERS, pieces, scores, types, 0, false);
        assertEquals(List.of(new UnigramModel.Segment(3, "ab")), m.encode("ab"));
    }
}
