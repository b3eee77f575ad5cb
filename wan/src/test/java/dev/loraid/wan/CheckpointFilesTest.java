package dev.loraid.wan;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CheckpointFilesTest {
    @TempDir
    Path dir;

    private Path touch(String name) throws IOException {
        return Files.writeString(dir.resolve(name), "");
    }

    @Test
    void oneShardStandsForTheWholeSet() throws IOException {
        Path a = touch("diffusion_pytorch_model-00001-of-00003.safetensors");
        Path b = touch("diffusion_pytorch_model-00002-of-00003.safetensors");
        Path c = touch("diffusion_pytorch_model-00003-of-00003.safetensors");
        assertEquals(List.of(a, b, c), CheckpointFiles.resolve(b));
        assertEquals(List.of(a, b, c), CheckpointFiles.resolve(dir));
    }

    @Test
    void aMissingShardIsNamed() throws IOException {
        Path a = touch("m-00001-of-00002.safetensors");
        IOException e = assertThrows(IOException.class, () -> CheckpointFiles.resolve(a));
        assertTrue(e.getMessage().contains("shard m-00002-of-00002.safetensors of 2 is missing"), e.getMessage());
    }

    @Test
    void anA14bFolderAsksForAnExpert() throws IOException {
        Files.createDirectories(dir.resolve("high_noise_model"));
        Files.createDirectories(dir.resolve("low_noise_model"));
        IOException e = assertThrows(IOException.class, () -> CheckpointFiles.resolve(dir));
        assertTrue(e.getMessage().contains("two Wan 2.2 A14B experts"), e.getMessage());
    }

    @Test
    void unrelatedFilesInAFolderAreNotGuessedAt() throws IOException {
        touch("a.safetensors");
        touch("b.safetensors");
        assertThrows(IOException.class, () -> CheckpointFiles.resolve(dir));
        assertEquals(List.of(dir.resolve("single.safetensors")),
                CheckpointFiles.resolve(Files.writeString(dir.resolve("single.safetensors"), "")));
    }
}
