package dev.loraid.wan.text;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Jazzer target for {@code tokenizer.json} files read by {@link Umt5Tokenizer#load}: the input is loaded and, if accepted,
 * tokenizes a few texts; a {@link TokenizerFileException} naming the file is the only exception allowed.
 * Seeds and regression inputs: {@code TokenizerJsonFuzzTestInputs/load/}.
 */
class TokenizerJsonFuzzTest {
    private static final Path FILE = TokenizerFuzzTarget.tempFile("tokenizer.json");

    @FuzzTest
    @Timeout(5)
    void load(byte[] input) throws IOException {
        TokenizerFuzzTarget.check(FILE, input);
    }
}
