package dev.loraid.wan.text;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The check both tokenizer fuzz targets share: load, then tokenize a few texts; only TokenizerFileException may escape. */
final class TokenizerFuzzTarget {
    /** Texts that reach the normalizer, special tokens, byte fallback and truncation. */
    private static final String[] TEXTS = {"the cat", "", "  A  b\u00e9\t\n</s><pad>x", "\uD83D\uDE00 \u0000 \uFF21", "cat ".repeat(40)};

    private TokenizerFuzzTarget() {
    }

    static void check(Path file, byte[] input) throws IOException {
        Files.write(file, input);
        Umt5Tokenizer tok;
        try {
            tok = Umt5Tokenizer.load(file);
        } catch (TokenizerFileException e) {
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
            return;
        }
        for (String text : TEXTS) {
            TokenizedText t = tok.encode(text, Umt5Tokenizer.WAN_TEXT_LEN);
            assertEquals(Umt5Tokenizer.WAN_TEXT_LEN, t.paddedIds().length, text);
            tok.encodeWan(text, Umt5Tokenizer.WAN_TEXT_LEN);
        }
    }

    static Path tempFile(String name) {
        try {
            Path dir = Files.createTempDirectory("tokenizer-fuzz");
            dir.toFile().deleteOnExit();
            Path f = dir.resolve(name);
            f.toFile().deleteOnExit();
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
