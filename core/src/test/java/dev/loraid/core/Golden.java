package dev.loraid.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/** Golden files ({@code testdata/golden}) and tensor comparisons that name the tensor and element at fault. */
public final class Golden {
    private Golden() {
    }

    public static Path file(String name) {
        return Path.of(System.getProperty("loraid.testdata"), "golden", name);
    }

    /** Every tensor of {@code expected} is in {@code actual} with equal shape and |a − e| ≤ abs + rel·|e|. */
    public static void assertClose(Path expected, Path actual, double abs, double rel) throws IOException {
        try (SafetensorsFile e = SafetensorsFile.open(expected); SafetensorsFile a = SafetensorsFile.open(actual)) {
            assertEquals(e.names().size(), a.names().size(), "tensor count of " + actual);
            for (String n : e.names()) {
                assertClose(n, e.tensor(n), a.tensor(n), abs, rel);
            }
        }
    }

    public static void assertClose(String name, Tensor expected, Tensor actual, double abs, double rel) {
        assertEquals(expected.shape(), actual.shape(), name);
        float[] x = Floats.read(expected);
        float[] y = Floats.read(actual);
        for (int i = 0; i < x.length; i++) {
            if (!(Math.abs(x[i] - y[i]) <= abs + rel * Math.abs(x[i]))) {
                fail(name + "[" + i + "]: expected " + x[i] + ", got " + y[i] + " (diff " + Math.abs(x[i] - y[i]) + ")");
            }
        }
    }

    public static boolean sameBytes(Tensor a, Tensor b) {
        if (a.dtype() != b.dtype() || !a.shape().equals(b.shape())) {
            return false;
        }
        long n = a.numel() * a.dtype().byteSize();
        return MemorySegment.mismatch(a.storage().segment(), a.offset() * a.dtype().byteSize(), a.offset() * a.dtype().byteSize() + n,
                b.storage().segment(), b.offset() * b.dtype().byteSize(), b.offset() * b.dtype().byteSize() + n) == -1;
    }

    public static void assertSameBytes(String name, Tensor a, Tensor b) {
        assertEquals(a.dtype(), b.dtype(), name);
        assertArrayEquals(a.shape().toArray(), b.shape().toArray(), name);
        assertTrue(sameBytes(a, b), name + " differs");
    }
}
