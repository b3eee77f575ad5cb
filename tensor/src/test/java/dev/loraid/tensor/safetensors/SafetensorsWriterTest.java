package dev.loraid.tensor.safetensors;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.MiniFloats;
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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SafetensorsWriterTest {
    private static Tensor iota(long... dims) {
        int n = (int) Shape.of(dims).numel();
        float[] d = new float[n];
        for (int i = 0; i < n; i++) {
            d[i] = i * 0.37f - 3;
        }
        return Tensor.of(d, dims);
    }

    private static List<Path> folder(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void streamsCastsAndStridedViewsInDeclaredOrder(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out.safetensors");
        Tensor m = iota(3, 5);
        Tensor mt = m.transpose(0, 1); // [5, 3], not contiguous
        Tensor big = iota(1_200_000);  // more than one cast chunk when written as BF16
        List<SafetensorsWriter.Entry> entries = List.of(
            new SafetensorsWriter.Entry("z.t", DType.F32, Shape.of(5, 3)),
            new SafetensorsWriter.Entry("a.bf16", DType.BF16, Shape.of(1_200_000)),
            new SafetensorsWriter.Entry("m.f64", DType.F64, Shape.of(3, 5)),
            new SafetensorsWriter.Entry("empty", DType.F16, Shape.of(0, 4)));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("k", "v \"quoted\"\n");
        meta.put("ü", "");
        try (SafetensorsWriter w = SafetensorsWriter.create(out, entries, meta)) {
            w.write("z.t", mt);
            w.write(big);
            w.write(m);
            w.write(Tensor.zeros(DType.F32, 0, 4));
            w.finish();
        }
        assertEquals(List.of(out), folder(tmp), "no temp file left behind");
        assertEquals(0, (Files.size(out) - 8 - 1_200_000 * 2 - 15 * 4 - 15 * 8) % 8, "header padded to a multiple of 8");
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(List.of("z.t", "a.bf16", "m.f64", "empty"), f.names());
            assertEquals(meta, f.metadata());
            assertArrayEquals(mt.toFloatArray(), f.tensor("z.t").toFloatArray());
            assertArrayEquals(m.toDoubleArray(), f.tensor("m.f64").toDoubleArray());
            Tensor bf = f.tensor("a.bf16");
            assertEquals(DType.BF16, bf.dtype());
            for (long i : new long[] {0, 1, 1_048_575, 1_048_576, 1_199_999}) {
                float v = big.getFloat(i);
                assertEquals(MiniFloats.bf16ToFloat(MiniFloats.floatToBf16(v)), bf.getFloat(i), "element " + i);
            }
            assertEquals(Shape.of(0, 4), f.info("empty").shape());
        }
    }

    @Test
    void writesDataAndHeaderLongerThanOneWriteCallWhole(@TempDir Path tmp) throws IOException {
        // each write system call takes at most 128 KiB: a header and tensors of several calls, none a whole multiple
        Path out = tmp.resolve("out.safetensors");
        Tensor a = iota(100_003);   // 400,012 bytes as F32, written straight from the tensor
        Tensor b = iota(7, 9_999);  // 279,972 bytes
        Map<String, String> meta = Map.of("long", "x".repeat(300_001));
        try (SafetensorsWriter w = SafetensorsWriter.create(out, List.of(new SafetensorsWriter.Entry("a", DType.F32, a.shape()),
                new SafetensorsWriter.Entry("b", DType.F32, b.shape())), meta)) {
            w.write(a);
            w.write(b);
            w.finish();
        }
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertEquals(meta, f.metadata());
            assertArrayEquals(a.toFloatArray(), f.tensor("a").toFloatArray());
            assertArrayEquals(b.toFloatArray(), f.tensor("b").toFloatArray());
        }
    }

    @Test
    void failureLeavesNoFileAndKeepsTheOldOne(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("keep.safetensors");
        Files.writeString(out, "old");
        List<SafetensorsWriter.Entry> entries = List.of(
            new SafetensorsWriter.Entry("a", DType.F32, Shape.of(2)),
            new SafetensorsWriter.Entry("b", DType.F32, Shape.of(2)));
        try (SafetensorsWriter w = SafetensorsWriter.create(out, entries, Map.of())) {
            w.write(iota(2));
            IllegalArgumentException wrongShape = assertThrows(IllegalArgumentException.class, () -> w.write(iota(3)));
            assertTrue(wrongShape.getMessage().contains("'b'") && wrongShape.getMessage().contains("[2]"), wrongShape.getMessage());
            IllegalStateException missing = assertThrows(IllegalStateException.class, w::finish);
            assertTrue(missing.getMessage().contains("'b' is missing"), missing.getMessage());
        }
        assertEquals(List.of(out), folder(tmp));
        assertEquals("old", Files.readString(out));

        try (SafetensorsWriter w = SafetensorsWriter.create(out, entries, Map.of())) {
            IllegalStateException order = assertThrows(IllegalStateException.class, () -> w.write("b", iota(2)));
            assertTrue(order.getMessage().contains("'a' comes next"), order.getMessage());
        }
        assertEquals(List.of(out), folder(tmp));
    }

    @Test
    void badOutputsAreClearErrors(@TempDir Path tmp) throws IOException {
        List<SafetensorsWriter.Entry> one = List.of(new SafetensorsWriter.Entry("a", DType.F32, Shape.of(2)));
        IOException dir = assertThrows(IOException.class, () -> SafetensorsWriter.create(tmp, one, null));
        assertTrue(dir.getMessage().contains("is a directory"), dir.getMessage());
        IOException noFolder = assertThrows(IOException.class,
            () -> SafetensorsWriter.create(tmp.resolve("no/such/x.safetensors"), one, null));
        assertTrue(noFolder.getMessage().contains("does not exist"), noFolder.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SafetensorsWriter.create(tmp.resolve("d.safetensors"),
            List.of(one.getFirst(), one.getFirst()), null));

        Path in = tmp.resolve("in.safetensors");
        SafetensorsWriter.write(in, Map.of("a", iota(2)), null);
        try (SafetensorsFile f = SafetensorsFile.open(in)) {
            IOException same = assertThrows(IOException.class,
                () -> SafetensorsWriter.write(tmp.resolve("./in.safetensors"), Map.of("a", f.tensor("a")), null));
            assertTrue(same.getMessage().contains("open as an input"), same.getMessage());
        }
        SafetensorsWriter.write(in, Map.of("a", iota(2)), null); // closed inputs may be replaced
        assertEquals(List.of(in), folder(tmp));
    }

    @Test
    void viewsDieWithTheFileWithoutCrashing(@TempDir Path tmp) throws IOException {
        Path p = tmp.resolve("x.safetensors");
        SafetensorsWriter.write(p, Map.of("a", iota(4)), Map.of("m", "1"));
        Tensor t;
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            t = f.tensor("a");
            assertEquals(f, t.storage().owner());
            assertEquals(-3f + 0.37f, t.getFloat(1), 1e-6);
        }
        assertThrows(IllegalStateException.class, () -> t.getFloat(1));
        assertFalse(SafetensorsFile.isOpen(p));
    }

    /** {@link SafetensorsWriter#force} between tensors flushes the temp file only: nothing appears before finish. */
    @Test
    void forceBetweenTensorsPublishesNothing(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("forced.safetensors");
        Tensor a = iota(3, 5);
        Tensor b = iota(7);
        List<SafetensorsWriter.Entry> entries = List.of(new SafetensorsWriter.Entry("a", DType.F32, a.shape()),
            new SafetensorsWriter.Entry("b", DType.BF16, b.shape()));
        try (SafetensorsWriter w = SafetensorsWriter.create(out, entries, Map.of())) {
            w.write("a", a);
            w.force();
            assertFalse(Files.exists(out));
            w.write("b", b);
            w.finish();
        }
        try (SafetensorsFile f = SafetensorsFile.open(out)) {
            assertArrayEquals(a.toFloatArray(), f.tensor("a").toFloatArray());
            assertArrayEquals(b.to(DType.BF16).toFloatArray(), f.tensor("b").toFloatArray());
        }
    }
}
