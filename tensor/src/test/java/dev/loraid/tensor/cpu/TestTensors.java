package dev.loraid.tensor.cpu;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

import java.util.Arrays;
import java.util.Random;

/**
 * Test inputs and outputs in several memory layouts, and comparisons that say which element differs by how much.
 * Shared with the CUDA golden harness, which mirrors these same layouts into device memory.
 */
public final class TestTensors {
    private TestTensors() {
    }

    /** How a tensor of a given logical shape sits in memory. */
    public enum Layout {
        /** Row-major. */
        CONTIGUOUS,
        /** The last two dimensions swapped in memory (last-dimension stride ≠ 1). */
        TRANSPOSED,
        /** A window of a larger buffer: padded rows and an offset (last-dimension stride 1). */
        NARROWED,
        /**
         * Inputs: one slice repeated along the first dimension (stride 0 there, as a broadcast operand reaches a
         * kernel). Outputs cannot alias, so {@link #empty} makes them contiguous.
         */
        BROADCAST
    }

    public static Tensor empty(DType dtype, Layout layout, long... shape) {
        int r = shape.length;
        switch (layout) {
            case TRANSPOSED -> {
                if (r < 2) {
                    return empty(dtype, Layout.NARROWED, shape);
                }
                long[] s = shape.clone();
                s[r - 1] = shape[r - 2];
                s[r - 2] = shape[r - 1];
                return Tensor.zeros(dtype, s).transpose(r - 1, r - 2);
            }
            case NARROWED -> {
                if (r == 1) {
                    return Tensor.zeros(dtype, shape[0] + 3).narrow(0, 2, shape[0]);
                }
                long[] s = shape.clone();
                s[r - 1] += 3;
                s[0] += 1;
                return Tensor.zeros(dtype, s).narrow(r - 1, 2, shape[r - 1]).narrow(0, 1, shape[0]);
            }
            default -> {
                return Tensor.zeros(dtype, shape);
            }
        }
    }

    /** Gaussian values as {@link #random}, in any layout including {@link Layout#BROADCAST}. */
    private static Tensor input(DType dtype, Layout layout, long... shape) {
        if (layout != Layout.BROADCAST || shape.length == 0) {
            return empty(dtype, layout, shape);
        }
        long[] one = shape.clone();
        one[0] = 1;
        return Tensor.zeros(dtype, one).expand(shape);
    }

    /** Gaussian values (scaled by {@code scale}, shifted by {@code shift}), rounded to the dtype on the way in. */
    public static Tensor random(Random rnd, DType dtype, Layout layout, double scale, double shift, long... shape) {
        Tensor t = input(dtype, layout, shape);
        long[] set = shape.clone();
        if (layout == Layout.BROADCAST && set.length > 0) {
            set[0] = 1; // fill the one stored slice
        }
        long[] idx = new long[shape.length];
        for (long i = 0, n = Shape.of(set).numel(); i < n; i++) {
            t.setDouble(rnd.nextGaussian() * scale + shift, idx);
            for (int d = idx.length - 1; d >= 0; d--) {
                if (++idx[d] < set[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return t;
    }

    public static Tensor random(Random rnd, DType dtype, Layout layout, long... shape) {
        return random(rnd, dtype, layout, 1, 0, shape);
    }

    /** Relative tolerance for results computed in fp32 (fp64 for F64) and stored in {@code dtype}. */
    public static double tolerance(DType dtype) {
        return switch (dtype) {
            case F64 -> 1e-10;
            case F32 -> 2e-5;
            case BF16 -> 1.6e-2;
            case F16 -> 2e-3;
            default -> 0;
        };
    }

    /** |actual − expected| ≤ tol·(1 + |expected|) element by element; the message names the first bad element. */
    public static void assertClose(String what, double[] expected, double[] actual, double tol) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": " + actual.length + " values, expected " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            boolean ok = Double.isNaN(e) ? Double.isNaN(a)
                : Double.isInfinite(e) ? a == e : Math.abs(a - e) <= tol * (1 + Math.abs(e));
            if (!ok) {
                throw new AssertionError(what + ": element " + i + " is " + a + ", expected " + e + " (tol " + tol + ")"
                    + (expected.length <= 8 ? " all: " + Arrays.toString(actual) + " vs " + Arrays.toString(expected) : ""));
            }
        }
    }
}
