package dev.loraid.tensor.safetensors;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer target for shard indexes ({@code *.safetensors.index.json}, read by CheckpointFiles and ShardedCheckpoint).
 * The input is the index; its folder holds two valid shards, {@code s-00001-of-00002.safetensors} (tensors a, b)
 * and {@code s-00002-of-00002.safetensors} (tensor c). Opening either fails with a
 * {@link SafetensorsFormatException} or {@link NoSuchFileException} naming a file in that folder, or yields a
 * checkpoint whose every tensor reads. Seeds and regression inputs: {@code ShardIndexFuzzTestInputs/open/}.
 */
class ShardIndexFuzzTest {
    private static final Path DIR = shardFolder();
    private static final Path INDEX = DIR.resolve("s.safetensors.index.json");

    @FuzzTest
    @Timeout(5)
    void open(byte[] index) throws IOException {
        Files.write(INDEX, index);
        try (TensorSource s = TensorSource.open(INDEX)) {
            for (String n : s.names()) {
                Tensor t = s.tensor(n);
                assertEquals(t.numel(), t.toDoubleArray().length, n);
            }
        } catch (SafetensorsFormatException e) {
            assertTrue(e.getMessage().startsWith(DIR.toString()), e.getMessage());
        } catch (NoSuchFileException e) {
            assertTrue(e.getFile().startsWith(DIR.toString()), e.getFile());
        }
    }

    private static Path shardFolder() {
        try {
            Path dir = Files.createTempDirectory("shard-index-fuzz");
            dir.toFile().deleteOnExit(); // registered first, deleted last (once empty)
            SafetensorsWriter.write(dir.resolve("s-00001-of-00002.safetensors"),
                Map.of("a", Tensor.of(new float[] {1, 2}, 2), "b", Tensor.of(new float[] {3}, 1)), Map.of("format", "pt"));
            SafetensorsWriter.write(dir.resolve("s-00002-of-00002.safetensors"),
                Map.of("c", Tensor.of(new float[] {4, 5, 6}, 3)), null);
            for (String f : new String[] {"s-00001-of-00002.safetensors", "s-00002-of-00002.safetensors", "s.safetensors.index.json"}) {
                dir.resolve(f).toFile().deleteOnExit();
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
