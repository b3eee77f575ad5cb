package dev.loraid.tensor.testing;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The golden files ({@code testdata/golden}, located by {@code -Dloraid.testdata}) and the comparison their README
 * prescribes, |a − e| ≤ atol + rtol·|e|, failing with the tensor, the first element at fault and the max error. One
 * copy for every module's tests (this module's test-jar).
 */
public final class Golden {
    private Golden() {
    }

    public static Path path(String name) {
        return Path.of(System.getProperty("loraid.testdata"), "golden", name);
    }

    public static SafetensorsFile open(String name) throws IOException {
        return SafetensorsFile.open(path(name));
    }

    /** Asserts {@code actual} matches {@code expected} element-wise; returns the max absolute error. */
    public static double assertClose(String what, Tensor expected, Tensor actual, double atol, double rtol) {
        assertArrayEquals(expected.shape().toArray(), actual.shape().toArray(), what + ": shape");
        double[] e = expected.toDoubleArray();
        double[] a = actual.toDoubleArray();
        double maxErr = 0;
        int firstBad = -1;
        for (int i = 0; i < e.length; i++) {
            double err = Math.abs(a[i] - e[i]);
            if (!(err <= atol + rtol * Math.abs(e[i])) && firstBad < 0) {
                firstBad = i;
            }
            maxErr = Math.max(maxErr, Double.isNaN(err) ? Double.POSITIVE_INFINITY : err);
        }
        if (firstBad >= 0) {
            fail(what + " differs at flat index " + firstBad + " of " + Arrays.toString(expected.shape().toArray())
                    + ": expected " + e[firstBad] + ", got " + a[firstBad] + " (max abs error " + maxErr + ")");
        }
        return maxErr;
    }

    /** Every tensor of the file {@code expected} is in {@code actual} with the same shape and within the tolerance. */
    public static void assertClose(Path expected, Path actual, double atol, double rtol) throws IOException {
        try (SafetensorsFile e = SafetensorsFile.open(expected); SafetensorsFile a = SafetensorsFile.open(actual)) {
            assertEquals(e.names().size(), a.names().size(), "tensor count of " + actual);
            for (String n : e.names()) {
                assertClose(n, e.tensor(n), a.tensor(n), atol, rtol);
            }
        }
    }

    /** Same dtype, shape and bytes (host tensors). */
    public static boolean sameBytes(Tensor a, Tensor b) {
        if (a.dtype() != b.dtype() || !a.shape().equals(b.shape())) {
            return false;
        }
        long n = a.numel() * a.dtype().byteSize();
        long ao = a.offset() * a.dtype().byteSize();
        long bo = b.offset() * b.dtype().byteSize();
        return MemorySegment.mismatch(a.storage().segment(), ao, ao + n, b.storage().segment(), bo, bo + n) == -1;
    }

    public static void assertSameBytes(String name, Tensor a, Tensor b) {
        assertEquals(a.dtype(), b.dtype(), name);
        assertArrayEquals(a.shape().toArray(), b.shape().toArray(), name);
        assertTrue(sameBytes(a, b), name + " differs");
    }
}
