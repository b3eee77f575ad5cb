package dev.loraid.core.generate;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.loraid.core.LoraidException;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer target for {@code --sample_prompts} files ({@link SamplePrompts#read}). The first byte picks the format:
 * {@code j} → the rest is {@code prompts.json}, {@code m} → the rest is {@code prompts.toml}, anything else → the
 * whole input is {@code prompts.txt}. Either prompts are read (at least one), or a {@link LoraidException} naming the
 * file escapes; nothing else. Seeds and regression inputs: {@code SamplePromptsFuzzTestInputs/read/}.
 */
class SamplePromptsFuzzTest {
    private static final Path DIR = tempDir();

    @FuzzTest
    @Timeout(5)
    void read(byte[] input) throws IOException {
        byte first = input.length == 0 ? 0 : input[0];
        String name = first == 'j' ? "prompts.json" : first == 'm' ? "prompts.toml" : "prompts.txt";
        Path file = DIR.resolve(name);
        Files.write(file, name.endsWith(".txt") ? input : Arrays.copyOfRange(input, 1, input.length));
        try {
            assertFalse(SamplePrompts.read(file).isEmpty());
        } catch (LoraidException e) {
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        } finally {
            Files.delete(file);
        }
    }

    private static Path tempDir() {
        try {
            Path dir = Files.createTempDirectory("sample-prompts-fuzz");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
