package dev.loraid.wan;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Access to testdata/golden and the comparison the golden README prescribes: |a − b| ≤ atol + rtol·|b|. */
public final class Golden {
    private Golden() {
    }

    public static Path path(String name) {
        return Path.of(System.getProperty("loraid.testdata"), "golden", name);
    }

    public static SafetensorsFile open(String name) throws IOException {
        return SafetensorsFile.open(path(name));
    }

    /**
     * Asserts {@code actual} matches {@code expected} element-wise; the failure names the tensor, the first
     * offending index and the max error. Returns the max absolute error.
     */
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
}
