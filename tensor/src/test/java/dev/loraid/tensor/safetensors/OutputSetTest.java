package dev.loraid.tensor.safetensors;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OutputSetTest {
    private static final List<SafetensorsWriter.Entry> TWO = List.of(
        new SafetensorsWriter.Entry("a", DType.F32, Shape.of(3)),
        new SafetensorsWriter.Entry("b", DType.BF16, Shape.of(2, 2)));

    private static List<Path> folder(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    private static Map<String, Path> named(String n1, Path p1, String n2, Path p2) {
        Map<String, Path> m = new LinkedHashMap<>();
        m.put(n1, p1);
        m.put(n2, p2);
        return m;
    }

    @Test
    void failureInTheSecondOutputLeavesNeitherAndKeepsWhatWasThere(@TempDir Path tmp) throws IOException {
        Path first = tmp.resolve("first.safetensors");
        Path second = tmp.resolve("second.safetensors");
        byte[] old = {0, 1, 2, 3, 's', 'a', 'f', 'e', (byte) 0xff};
        Files.write(first, old);
        RuntimeException injected = new RuntimeException("injected: blend failed");
        RuntimeException thrown = assertThrows(RuntimeException.class, () -> {
            try (OutputSet set = new OutputSet(named("--output_file_lora1", first, "--output_file", second))) {
                set.write(first, Map.of("x", Tensor.of(new float[] {1, 2, 3}, 3)), Map.of("k", "v"));
                try (SafetensorsWriter w = set.create(second, TWO, null)) {
                    w.write(Tensor.of(new float[] {4, 5, 6}, 3));
                    assertEquals(3, folder(tmp).size(), "first.safetensors and the two temp files");
                    throw injected;   // the second output fails half-way
                }
            }
        });
        assertSame(injected, thrown);
        assertEquals(List.of(first), folder(tmp), "no temp file left, nothing at second");
        assertArrayEquals(old, Files.readAllBytes(first), "the pre-existing first output is byte-identical");
    }

    @Test
    void anOutputNeverWrittenOrNotFinishedBlocksTheCommit(@TempDir Path tmp) throws IOException {
        Path first = tmp.resolve("first.safetensors");
        Path second = tmp.resolve("second.safetensors");
        try (OutputSet set = new OutputSet(named("--save_merged_model", first, "--save_merged_model_high_noise", second))) {
            set.write(first, Map.of("x", Tensor.of(new float[] {1}, 1)), null);
            IllegalStateException missing = assertThrows(IllegalStateException.class, set::commit);
            assertTrue(missing.getMessage().contains("--save_merged_model_high_noise") && missing.getMessage().contains("not written"),
                missing.getMessage());
            SafetensorsWriter w = set.create(second, TWO, null);
            w.write(Tensor.of(new float[] {4, 5, 6}, 3));
            IllegalStateException unfinished = assertThrows(IllegalStateException.class, set::commit);
            assertTrue(unfinished.getMessage().contains("not finished"), unfinished.getMessage());
        }
        assertEquals(List.of(), folder(tmp));
    }

    @Test
    void commitPublishesEveryOutput(@TempDir Path tmp) throws IOException {
        Path first = tmp.resolve("first.safetensors");
        Files.writeString(first, "old");
        Files.createDirectory(tmp.resolve("sub"));
        Path second = tmp.resolve("sub/second.safetensors");
        Tensor b = Tensor.of(new float[] {0.5f, -1, 2, 3.25f}, 2, 2);
        try (OutputSet set = new OutputSet(named("one", first, "two", second))) {
            try (SafetensorsWriter w = set.create(second, TWO, Map.of("m", "2"))) {
                w.write(Tensor.of(new float[] {4, 5, 6}, 3));
                w.write(b);
                w.finish();
            }
            set.write(first, Map.of("x", Tensor.of(new float[] {1, 2, 3}, 3)), Map.of("m", "1"));
            assertEquals("old", Files.readString(first), "nothing in place before commit");
            assertFalse(Files.exists(second));
            set.commit();
        }
        assertEquals(List.of(first, tmp.resolve("sub")), folder(tmp));
        assertEquals(List.of(second), folder(tmp.resolve("sub")));
        try (SafetensorsFile f = SafetensorsFile.open(first); SafetensorsFile s = SafetensorsFile.open(second)) {
            assertArrayEquals(new float[] {1, 2, 3}, f.tensor("x").toFloatArray());
            assertEquals(Map.of("m", "1"), f.metadata());
            assertArrayEquals(new float[] {4, 5, 6}, s.tensor("a").toFloatArray());
            assertArrayEquals(b.toFloatArray(), s.tensor("b").toFloatArray()); // exact in bf16
            assertEquals(DType.BF16, s.info("b").dtype());
        }
    }

    @Test
    void twoOutputsResolvingToOneFileAreRefusedNamingBoth(@TempDir Path tmp) throws IOException {
        Path a = tmp.resolve("a.safetensors");
        IllegalArgumentException dotted = assertThrows(IllegalArgumentException.class,
            () -> new OutputSet(named("--output_file_lora1", a, "--output_file", tmp.resolve("sub/../a.safetensors"))));
        assertTrue(dotted.getMessage().contains("--output_file_lora1") && dotted.getMessage().contains("--output_file ")
            && dotted.getMessage().contains("same file"), dotted.getMessage());
        Path link = Files.createSymbolicLink(tmp.resolve("link"), tmp);
        IllegalArgumentException viaLink = assertThrows(IllegalArgumentException.class,
            () -> OutputSet.checkDistinct(named("x", a, "y", link.resolve("a.safetensors"))));
        assertTrue(viaLink.getMessage().contains("x " + a) && viaLink.getMessage().contains("y " + link.resolve("a.safetensors")),
            viaLink.getMessage());
        OutputSet.checkDistinct(named("x", a, "y", tmp.resolve("b.safetensors")));

        try (OutputSet set = new OutputSet(Map.of("x", a))) {
            IllegalArgumentException undeclared = assertThrows(IllegalArgumentException.class,
                () -> set.write(tmp.resolve("c.safetensors"), Map.of("x", Tensor.of(new float[] {1}, 1)), null));
            assertTrue(undeclared.getMessage().contains("c.safetensors is not one of the declared outputs"), undeclared.getMessage());
            set.write(tmp.resolve("./a.safetensors"), Map.of("x", Tensor.of(new float[] {1}, 1)), null);
            assertThrows(IllegalStateException.class, () -> set.write(a, Map.of("x", Tensor.of(new float[] {1}, 1)), null));
            set.commit();
        }
        assertEquals(List.of(a, link), folder(tmp));
    }

    @Test
    void checkFoldersNamesTheOutputWhoseFolderIsMissingOrNotAFolder(@TempDir Path tmp) throws IOException {
        Path ok = tmp.resolve("ok.safetensors");
        Path missing = tmp.resolve("gone/x.safetensors");
        IOException gone = assertThrows(IOException.class, () -> OutputSet.checkFolders(named("--a", ok, "--b", missing)));
        assertEquals("--b " + missing + " is in a folder that does not exist: " + tmp.resolve("gone"), gone.getMessage());
        Path file = Files.writeString(tmp.resolve("file"), "not a folder");
        IOException notFolder = assertThrows(IOException.class,
            () -> OutputSet.checkFolders(named("--a", file.resolve("x.safetensors"), "--b", ok)));
        assertEquals("--a " + file.resolve("x.safetensors") + " is in " + file + ", which is not a folder", notFolder.getMessage());
        OutputSet.checkFolders(named("--a", ok, "--b", tmp.resolve("sub/../b.safetensors")));
        assertEquals(List.of(file), folder(tmp), "checking writes nothing");
    }
}
