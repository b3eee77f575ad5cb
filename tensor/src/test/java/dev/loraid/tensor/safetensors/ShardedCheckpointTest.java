package dev.loraid.tensor.safetensors;

import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ShardedCheckpointTest {
    private static final String P = "diffusion_pytorch_model-";

    /** Three shards holding a, b | c | d, plus an index. */
    private static Path shards(Path dir) throws IOException {
        SafetensorsWriter.write(dir.resolve(P + "00001-of-00003.safetensors"),
            Map.of("a", Tensor.of(new float[] {1, 2}, 2)), Map.of("format", "pt"));
        SafetensorsWriter.write(dir.resolve(P + "00002-of-00003.safetensors"),
            Map.of("c", Tensor.of(new float[] {3}, 1)), Map.of("format", "other", "x", "2"));
        SafetensorsWriter.write(dir.resolve(P + "00003-of-00003.safetensors"),
            Map.of("d", Tensor.of(new float[] {4, 5, 6}, 3)), null);
        Path index = dir.resolve(P.substring(0, P.length() - 1) + ".safetensors.index.json");
        Files.writeString(index, "{\"metadata\":{\"total_size\":24},\"weight_map\":{"
            + "\"d\":\"" + P + "00003-of-00003.safetensors\",\"a\":\"" + P + "00001-of-00003.safetensors\","
            + "\"c\":\"" + P + "00002-of-00003.safetensors\"}}");
        return index;
    }

    private static void checkContent(TensorSource s) {
        assertEquals(List.of("a", "c", "d"), s.names());
        assertArrayEquals(new float[] {4, 5, 6}, s.tensor("d").toFloatArray());
        assertArrayEquals(new float[] {3}, s.tensor("c").toFloatArray());
        assertEquals(Map.of("format", "pt", "x", "2"), s.metadata());
        assertTrue(s.contains("a"));
        assertThrows(java.util.NoSuchElementException.class, () -> s.info("nope"));
    }

    @Test
    void indexShardDirectoryAndListAllReadAsOne(@TempDir Path tmp) throws IOException {
        Path index = shards(tmp);
        try (TensorSource s = TensorSource.open(index)) {
            assertInstanceOf(ShardedCheckpoint.class, s);
            checkContent(s);
        }
        try (TensorSource s = TensorSource.open(tmp.resolve(P + "00002-of-00003.safetensors"))) {
            checkContent(s);
        }
        try (TensorSource s = TensorSource.open(tmp)) {
            checkContent(s);
        }
        Files.delete(index);
        try (TensorSource s = TensorSource.open(tmp)) { // numbered shards without an index
            checkContent(s);
        }
        try (TensorSource s = TensorSource.open(List.of(tmp.resolve(P + "00001-of-00003.safetensors"),
            tmp.resolve(P + "00002-of-00003.safetensors"), tmp.resolve(P + "00003-of-00003.safetensors")))) {
            checkContent(s);
        }
    }

    @Test
    void aFolderOfExpertFoldersAsksForOne(@TempDir Path tmp) throws IOException {
        Files.createDirectories(tmp.resolve("high_noise_model"));
        shards(Files.createDirectories(tmp.resolve("low_noise_model")));
        IOException e = assertThrows(IOException.class, () -> TensorSource.open(tmp));
        assertTrue(e.getMessage().endsWith("holds no .safetensors file; name one of its subfolders (high_noise_model, low_noise_model)"),
            e.getMessage());
        try (TensorSource s = TensorSource.open(tmp.resolve("low_noise_model"))) {
            checkContent(s);
        }
    }

    @Test
    void inconsistentShardsAreErrorsNamingTheFiles(@TempDir Path tmp) throws IOException {
        Path index = shards(tmp);
        String good = Files.readString(index);
        Files.writeString(index, good.replace("\"c\":\"" + P + "00002", "\"c\":\"" + P + "00001"));
        SafetensorsFormatException wrongShard = assertThrows(SafetensorsFormatException.class, () -> TensorSource.open(index));
        assertTrue(wrongShard.getMessage().contains("tensor 'c'"), wrongShard.getMessage());

        Files.writeString(index, good.replace("}}", ",\"e\":\"" + P + "00003-of-00003.safetensors\"}}"));
        SafetensorsFormatException missing = assertThrows(SafetensorsFormatException.class, () -> TensorSource.open(index));
        assertTrue(missing.getMessage().contains("tensor 'e'") && missing.getMessage().contains("missing"), missing.getMessage());

        Files.writeString(index, good.replace("\"a\":\"" + P, "\"a\":\"../" + P));
        assertThrows(SafetensorsFormatException.class, () -> TensorSource.open(index));
        Files.writeString(index, good);

        Path dup = tmp.resolve("dup.safetensors");
        SafetensorsWriter.write(dup, Map.of("a", Tensor.of(new float[] {9}, 1)), null);
        SafetensorsFormatException twice = assertThrows(SafetensorsFormatException.class,
            () -> TensorSource.open(List.of(tmp.resolve(P + "00001-of-00003.safetensors"), dup)));
        assertTrue(twice.getMessage().contains("tensor 'a'") && twice.getMessage().contains("dup.safetensors"), twice.getMessage());

        Files.delete(tmp.resolve(P + "00003-of-00003.safetensors"));
        assertThrows(NoSuchFileException.class, () -> TensorSource.open(tmp.resolve(P + "00001-of-00003.safetensors")));
        assertThrows(NoSuchFileException.class, () -> TensorSource.open(index));
        assertThrows(NoSuchFileException.class, () -> TensorSource.open(tmp.resolve("absent.safetensors")));
        // all files opened along the failed paths were closed again
        assertTrue(!SafetensorsFile.isOpen(tmp.resolve(P + "00001-of-00003.safetensors")));
    }
}
