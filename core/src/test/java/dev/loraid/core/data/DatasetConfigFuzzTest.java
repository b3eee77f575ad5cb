package dev.loraid.core.data;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer target for dataset configs ({@link DatasetConfigReader}: Jackson's TOML/JSON parser, then the hand-written
 * key locations and schema checks). An input whose first non-blank byte is '{' is read as {@code dataset.json},
 * anything else as {@code dataset.toml}. Either it reads, or a {@link LoraidException} whose message starts with
 * the file's path escapes; nothing else. Seeds and regression inputs: {@code DatasetConfigFuzzTestInputs/read/}.
 */
class DatasetConfigFuzzTest {
    private static final Path DIR = tempDir();

    @FuzzTest
    @Timeout(5)
    void read(byte[] input) throws IOException {
        int i = 0;
        while (i < input.length && Character.isWhitespace(input[i])) {
            i++;
        }
        Path file = DIR.resolve(i < input.length && input[i] == '{' ? "dataset.json" : "dataset.toml");
        Files.write(file, input);
        try {
            DatasetConfigReader.read(file, DIR, Reporter.SILENT);
        } catch (LoraidException e) {
            assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        } finally {
            Files.delete(file);
        }
    }

    private static Path tempDir() {
        try {
            Path dir = Files.createTempDirectory("dataset-config-fuzz");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
