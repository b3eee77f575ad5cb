package dev.loraid.tensor.safetensors;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer target for safetensors files: the header (length field, JSON, dtypes, shapes, offsets) and the data
 * section. Each input is read from memory by {@link SafetensorsHeader#read}; one it accepts is then written to a file,
 * opened by {@link SafetensorsFile#open} (which must agree) and every byte of every tensor is read. Either it is refused with a
 * {@link SafetensorsFormatException} naming the file, or its spans tile the data section exactly; nothing else may
 * escape (README "Reliability"). Seeds and regression inputs: {@code SafetensorsFuzzTestInputs/open/}.
 */
class SafetensorsFuzzTest {
    private static final Path FILE = tempFile();

    @FuzzTest
    @Timeout(5)
    void open(byte[] input) throws IOException {
        SafetensorsHeader fromMemory;
        try {
            fromMemory = SafetensorsBytes.read(input);
            checkTiles(fromMemory, input.length);
        } catch (SafetensorsFormatException e) {
            assertTrue(e.getMessage().startsWith(SafetensorsBytes.SOURCE + ": "), e.getMessage());
            fromMemory = null;
        }
        if (fromMemory == null) {
            return; // refusals take the same path on disk; opening (mapping) only accepted files keeps the rate up
        }
        Files.write(FILE, input);
        try (SafetensorsFile f = SafetensorsFile.open(FILE)) {
            assertEquals(fromMemory.tensors(), f.header().tensors());
            for (String n : f.names()) {
                Tensor t = f.tensor(n);
                assertEquals(t.numel(), t.toDoubleArray().length, n); // reads every mapped byte
            }
        }
    }

    static void checkTiles(SafetensorsHeader h, long fileSize) {
        long at = 0;
        List<TensorInfo> ts = h.tensors();
        for (TensorInfo t : ts) {
            assertEquals(at, t.begin(), t.name());
            assertEquals(t.shape().numel() * t.dtype().byteSize(), t.byteSize(), t.name());
            at = t.end();
        }
        assertEquals(h.dataSize(), at);
        assertEquals(fileSize, h.dataStart() + h.dataSize());
    }

    private static Path tempFile() {
        try {
            Path dir = Files.createTempDirectory("safetensors-fuzz");
            dir.toFile().deleteOnExit();
            Path f = dir.resolve("fuzz.safetensors");
            f.toFile().deleteOnExit();
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
