package dev.loraid.tensor.cpu.gemm;

import dev.loraid.tensor.Backends;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The CPU GEMM against {@link GemmReference} on odd shapes, views, batches, dtypes and epilogues. */
class GemmTest {
    private static final int MR = GemmTiling.MR;
    private static final int NR = GemmTiling.NR;
    private static final int KC = GemmTiling.KC;

    private final Random rnd = new Random(1234);

    /** A [rows, cols] matrix of the given dtype with random values; {@code transposed} stores it as [cols, rows]. */
    private Tensor matrix(DType dtype, int rows, int cols, boolean transposed) {
        Tensor t = transposed ? random(dtype, cols, rows).transpose(0, 1) : random(dtype, rows, cols);
        assertEquals(rows, t.size(0));
        return t;
    }

    private Tensor random(DType dtype, long... dims) {
        Tensor t = Tensor.empty(dtype, dims);
        double[] v = new double[(int) t.numel()];
        long[] idx = new long[dims.length];
        for (int i = 0; i < v.length; i++) {
            t.setDouble(rnd.nextGaussian(), idx);
            for (int d = dims.length - 1; d >= 0 && ++idx[d] == dims[d]; d--) {
                idx[d] = 0;
            }
        }
        return t;
    }

    /** Runs matmul and compares every element with the reference, within a bound scaled by the terms' size. */
    private void check(Tensor a, Tensor b, Tensor c, double alpha, double beta, Tensor bias, double relTol) {
        double[] c0 = c.toDoubleArray();
        GemmReference ref = GemmReference.of(a, b, c0, alpha, beta, bias, c.shape().toArray());
        Backends.cpu().matmul(a, b, c, alpha, beta, bias);
        double[] got = c.toDoubleArray();
        for (int i = 0; i < got.length; i++) {
            double tol = relTol * ref.magnitudes[i] + 1e-30;
            if (!(Math.abs(got[i] - ref.values[i]) <= tol)) {
                fail("c" + Arrays.toString(unravel(i, c.shape())) + " = " + got[i] + ", expected " + ref.values[i]
                    + " ± " + tol + " (a " + a + ", b " + b + ", c " + c + ")");
            }
        }
    }

    private static Tensor copyOf(Tensor t) {
        Tensor copy = Tensor.empty(t.dtype(), t.shape().toArray());
        Backends.cpu().copy(t, copy);
        return copy;
    }

    private static long[] unravel(long linear, Shape shape) {
        long[] idx = new long[shape.rank()];
        for (int d = shape.rank() - 1; d >= 0; d--) {
            idx[d] = linear % shape.dim(d);
            linear /= shape.dim(d);
        }
        return idx;
    }

    /**
     * The build runs this class once more per register tile ({@code -Dloraid.gemm.mr=4} and {@code 6}, tensor's
     * pom): each run must really use the tile it names, or one micro-kernel would go untested on this machine.
     * Without the property the tile follows the register count: 4 rows only on x86 below AVX-512.
     */
    @Test
    void registerTileIsTheOneAskedFor() {
        Integer asked = Integer.getInteger("loraid.gemm.mr");
        String arch = System.getProperty("os.arch");
        boolean x86 = arch.equals("amd64") || arch.equals("x86_64");
        int expected = asked != null ? asked : x86 && GemmTiling.SPECIES.vectorBitSize() < 512 ? 4 : 6;
        assertEquals(expected, MR, GemmTiling.describe());
        assertTrue(GemmTiling.describe().contains("MR=" + expected), GemmTiling.describe());
    }

    /**
     * A BF16 output over more than one K slice is computed in an fp32 temporary: the temporary is given back to the
     * scope at once (a training step's scope held one per product of a half-precision Linear before), and the result is
     * the fp32 product rounded once.
     */
    @Test
    void theFp32TemporaryOfAHalfOutputLeavesTheScope() {
        Tensor a = random(DType.F32, 40, KC + 9);
        Tensor b = random(DType.F32, KC + 9, 24);
        Tensor want = Tensor.empty(DType.F32, 40, 24);
        Backends.cpu().matmul(a, b, want, 1, 0, null);
        try (MemoryScope step = MemoryScope.open()) {
            Tensor c = Tensor.empty(DType.BF16, 40, 24);
            long before = step.bytesInUse(Device.CPU);
            Backends.cpu().matmul(a, b, c, 1, 0, null);
            assertEquals(before, step.bytesInUse(Device.CPU), "scope bytes after the product");
            assertArrayEquals(want.to(DType.BF16).toFloatArray(), c.toFloatArray(), 0f);
        }
    }

    @Test
    void oddShapesMatchReference() {
        int[][] shapes = {
            {1, 1, 1}, {7, 5, 3}, {MR, KC, NR}, {MR + 1, KC + 1, NR + 1}, {33, 17, 65}, {129, 2 * KC + 3, 47},
            {2, 1, 129}, {13, 7, 2 * NR - 1}, {1, 300, 1}};
        for (int[] s : shapes) {
            check(matrix(DType.F32, s[0], s[1], false), matrix(DType.F32, s[1], s[2], false),
                Tensor.empty(DType.F32, s[0], s[2]), 1, 0, null, 1e-5);
        }
    }

    @Test
    void blockBoundariesInEveryDimension() {
        int m = GemmTiling.MC + MR + 1;
        check(matrix(DType.F32, m, KC + 5, false), matrix(DType.F32, KC + 5, 9, false), Tensor.empty(DType.F32, m, 9),
            1, 0, null, 1e-5);
        int n = GemmTiling.NC + NR + 3;
        check(matrix(DType.F32, 11, KC + 1, false), matrix(DType.F32, KC + 1, n, false), Tensor.empty(DType.F32, 11, n),
            1, 0, null, 1e-5);
        // a group of B panels and a part of one, against several strips of A and a part of one
        int group = GemmTiling.PANEL_GROUP * NR;
        check(matrix(DType.F32, 3 * MR + 2, 40, false), matrix(DType.F32, 40, group + NR + 5, false),
            Tensor.empty(DType.F32, 3 * MR + 2, group + NR + 5), 1, 0, null, 1e-5);
    }

    @Test
    void sharedPanelsMatchReferenceWithTheSameBitsForAnyThreadCount() {
        int m = 2 * GemmTiling.MC + MR + 1;
        int k = 2 * KC + 5;
        int n = GemmTiling.SHARED_NC + NR + 3;
        Tensor a = random(DType.F32, m, k);
        Tensor b = matrix(DType.BF16, k, n, true);
        Tensor bias = random(DType.F32, n);
        Tensor c0 = random(DType.F32, m, n);
        Tensor c = copyOf(c0);
        check(a, b, c, 1.5, 0.5, bias, 1e-5);
        // every element is summed in the same K order however the rows are shared out and scheduled
        float[] expected = c.toFloatArray();
        float[] biasValues = bias.toFloatArray();
        for (int threads : new int[] {1, 2, 3}) {
            Tensor t = copyOf(c0);
            Gemm.Layout l = Gemm.layout(a, b, t);
            SharedPanelGemm.run(new BlockedGemm.Problem(l.a(), l.b(), l.c(), l.aOffsets(), l.bOffsets(),
                l.cOffsets(), 1.5f, 0.5f, biasValues, false), threads);
            assertArrayEquals(expected, t.toFloatArray(), threads + " threads");
        }
    }

    @Test
    void transposedOperandsAreViews() {
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                check(matrix(DType.F32, 37, 70, ta), matrix(DType.F32, 70, 2 * NR + 5, tb),
                    Tensor.empty(DType.F32, 37, 2 * NR + 5), 1, 0, null, 1e-5);
            }
        }
        // a weight-gradient-like dYᵀ·X: A transposed over more than one row block and K slice, in the plain order
        int m = GemmTiling.MC + 7;
        Tensor a = matrix(DType.F32, m, KC + 3, true);
        Tensor b = matrix(DType.F32, KC + 3, 300, false);
        Tensor c = Tensor.empty(DType.F32, m, 300);
        assertTrue(!Gemm.transposedIsCheaper(Gemm.layout(a, b, c), true));
        check(a, b, c, 1, 0, null, 1e-5);
    }

    @Test
    void transposedProductWhereItPacksLess() {
        // weight-gradient shape gᵀ·h: computed as (hᵀ·g)ᵀ, into a plain output and into a transposed one, with bias
        Tensor g = random(DType.F32, 300, 70);
        Tensor h = random(DType.F32, 300, 9);
        Tensor plainOut = Tensor.empty(DType.F32, 70, 9);
        assertTrue(Gemm.transposedIsCheaper(Gemm.layout(g.transpose(0, 1), h, plainOut), true));
        check(g.transpose(0, 1), h, plainOut, 0.5, 0, random(DType.F32, 9), 1e-5);
        check(g.transpose(0, 1), h, random(DType.F32, 9, 70).transpose(0, 1), 1, 1, random(DType.BF16, 9), 1e-5);
        check(g.transpose(0, 1), h, random(DType.BF16, 70, 9), 1, 1, random(DType.F32, 9), 8e-3);
        // a Linear forward x·Wᵀ stays in the plain order
        Tensor w = random(DType.BF16, 40, 70);
        assertTrue(!Gemm.transposedIsCheaper(Gemm.layout(random(DType.F32, 50, 70), w.transpose(0, 1),
            Tensor.empty(DType.F32, 50, 40)), true));
    }

    @Test
    void stridedViewsWithoutUnitStride() {
        // every operand a narrowed window of a bigger tensor, b and c with both strides > 1
        Tensor a = random(DType.F32, 40, 50).narrow(0, 3, 31).narrow(1, 2, 45);
        Tensor bBig = random(DType.F32, 3 * 45, 2 * 20);
        Tensor b = new Tensor(bBig.storage(), DType.F32, Shape.of(45, 20), new long[] {3 * 40, 2}, 1);
        Tensor cBig = random(DType.F32, 31, 3 * 20);
        double[] before = cBig.toDoubleArray();
        Tensor c = new Tensor(cBig.storage(), DType.F32, Shape.of(31, 20), new long[] {60, 3}, 2);
        check(a, b, c, 0.5, 2.0, null, 1e-5);
        // the elements of cBig between c's columns are untouched
        double[] after = cBig.toDoubleArray();
        for (int i = 0; i < after.length; i++) {
            if (i < 2 || (i - 2) % 3 != 0) {
                assertEquals(before[i], after[i], "element " + i + " outside c");
            }
        }
    }

    @Test
    void rowMajorF32PanelsFromAWindowOfAWiderTensor() {
        // B with contiguous rows but a row stride wider than its columns and an offset: its full NR-wide panels are
        // copied a vector at a time, the last, partial one element-wise; K over a slice boundary, few rows of output
        // (a weight gradient's shape) and enough rows for the shared-panel driver
        Tensor b = random(DType.F32, KC + 20, 3 * NR + 11).narrow(0, 3, KC + 7).narrow(1, 5, 2 * NR + 3);
        assertTrue(b.stride(1) == 1 && b.stride(0) > b.size(1) && b.offset() > 0);
        for (int m : new int[] {MR - 1, 2 * GemmTiling.MC + 5}) {
            check(random(DType.F32, m, KC + 7), b, random(DType.F32, m, 2 * NR + 3), 1, 0.5, null, 1e-5);
        }
    }

    @Test
    void batchedWithBroadcast() {
        // both batched, b broadcast over the first batch dim
        check(random(DType.F32, 2, 3, 9, 11), random(DType.F32, 3, 11, 19), Tensor.empty(DType.F32, 2, 3, 9, 19),
            1, 0, null, 1e-5);
        // 2-D b shared by every batch (folds into one taller GEMM)
        check(random(DType.F32, 4, 7, 33), random(DType.F32, 33, 40), Tensor.empty(DType.F32, 4, 7, 40),
            1, 0, null, 1e-5);
        // 2-D a shared, b batched; size-1 batch dims on both sides
        check(random(DType.F32, 5, 8), random(DType.F32, 3, 8, 17), Tensor.empty(DType.F32, 3, 5, 17),
            1, 0, null, 1e-5);
        check(random(DType.F32, 2, 1, 5, 8), random(DType.F32, 1, 3, 8, 17), Tensor.empty(DType.F32, 2, 3, 5, 17),
            1, 0, null, 1e-5);
        // attention-like permuted views: q [B, L, H, D] -> [B, H, L, D], k likewise, transposed
        Tensor q = random(DType.F32, 2, 13, 3, 16).permute(0, 2, 1, 3);
        Tensor k = random(DType.F32, 2, 21, 3, 16).permute(0, 2, 3, 1);
        check(q, k, Tensor.empty(DType.F32, 2, 3, 13, 21), 0.25, 0, null, 1e-5);
    }

    @Test
    void alphaBetaAndBias() {
        Tensor bias = random(DType.F32, 2 * NR + 3);
        check(random(DType.F32, 17, 29), random(DType.F32, 29, 2 * NR + 3), random(DType.F32, 17, 2 * NR + 3),
            -1.5, 0.75, bias, 1e-5);
        // K larger than one slice: beta and bias are applied once, not per slice
        check(random(DType.F32, 7, 2 * KC + 1), random(DType.F32, 2 * KC + 1, NR), random(DType.F32, 7, NR),
            2, 1, random(DType.BF16, NR), 1e-5);
    }

    @Test
    void betaZeroIgnoresNaNInC() {
        Tensor c = Tensor.full(DType.F32, Double.NaN, 9, 2 * NR + 1);
        Tensor a = random(DType.F32, 9, 20);
        Tensor b = random(DType.F32, 20, 2 * NR + 1);
        Backends.cpu().matmul(a, b, c, 1, 0, null);
        for (double v : c.toDoubleArray()) {
            assertTrue(Double.isFinite(v));
        }
        check(a, b, Tensor.full(DType.F32, Double.NaN, 9, 2 * NR + 1), 1, 0, null, 1e-5);
    }

    @Test
    void emptyInnerDimensionGivesBetaCPlusBias() {
        Tensor c = random(DType.F32, 5, 6);
        check(Tensor.empty(DType.F32, 5, 0), Tensor.empty(DType.F32, 0, 6), c, 1, 0.5, random(DType.F32, 6), 1e-6);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16", "F16", "F8_E4M3", "F8_E5M2"})
    void everyWeightDtypeInBothLayouts(DType weight) {
        for (boolean transposed : new boolean[] {false, true}) {
            check(matrix(DType.F32, 23, KC + 9, false), matrix(weight, KC + 9, 3 * NR + 1, transposed),
                Tensor.empty(DType.F32, 23, 3 * NR + 1), 1, 0, null, 1e-5);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"BF16", "F16"})
    void narrowActivations(DType act) {
        check(matrix(act, 19, 45, false), matrix(DType.BF16, 45, NR + 2, true), Tensor.empty(DType.F32, 19, NR + 2),
            1, 0, null, 1e-5);
        check(matrix(act, 19, 45, true), matrix(DType.F32, 45, NR + 2, false), Tensor.empty(DType.F32, 19, NR + 2),
            1, 0, null, 1e-5);
    }

    @Test
    void narrowAndWideOutputs() {
        // BF16 output: exact up to the final rounding to bf16 (2^-8 relative)
        check(random(DType.F32, 11, 30), random(DType.BF16, 30, 21), random(DType.BF16, 11, 21), 1, 1, null, 8e-3);
        // F64 output with fp32 inputs goes through an F32 temporary
        check(random(DType.F32, 11, 30), random(DType.F32, 30, 21), random(DType.F64, 11, 21), 1, 0.5, null, 1e-5);
    }

    /**
     * A BF16 output the kernel writes itself (K of one slice) holds the bits of the same product into an fp32 copy of
     * the output, cast to bf16 afterwards: edge tiles, beta 0 / 1 / 0.5, a bias, transposed outputs (through the
     * temporary) and K over one slice (through the temporary) alike.
     */
    @Test
    void bf16OutputHasTheBitsOfAnFp32ResultCastOnce() {
        int[][] mkn = {{2 * MR + 3, 64, 3 * NR + 5}, {1, 7, NR}, {MR, KC, 2 * NR - 1}, {MR + 1, KC + 9, NR + 3}};
        for (int[] d : mkn) {
            for (double beta : new double[] {0, 1, 0.5}) {
                for (boolean transposedOut : new boolean[] {false, true}) {
                    Tensor a = matrix(DType.F32, d[0], d[1], false);
                    Tensor b = matrix(DType.BF16, d[1], d[2], true);
                    Tensor bias = beta == 0.5 ? random(DType.F32, d[2]) : null;
                    Tensor c = matrix(DType.BF16, d[0], d[2], transposedOut);
                    Tensor wide = Tensor.empty(DType.F32, d[0], d[2]);
                    Backends.cpu().copy(c, wide);
                    Backends.cpu().matmul(a, b, wide, 0.75, beta, bias);
                    Tensor expected = Tensor.empty(DType.BF16, d[0], d[2]);
                    Backends.cpu().copy(wide, expected);
                    Backends.cpu().matmul(a, b, c, 0.75, beta, bias);
                    assertArrayEquals(expected.contiguous().toFloatArray(), c.contiguous().toFloatArray(),
                        Arrays.toString(d) + " beta " + beta + (transposedOut ? " transposed" : ""));
                }
            }
        }
        assertTrue(Gemm.writesDirectly(DType.BF16, KC) && !Gemm.writesDirectly(DType.BF16, KC + 1));
    }

    @Test
    void allF64IsDoublePrecision() {
        Tensor bias = random(DType.F64, 18);
        check(random(DType.F64, 2, 13, 77), random(DType.F64, 77, 18).transpose(0, 1).contiguous().transpose(0, 1),
            random(DType.F64, 2, 13, 18), 0.3, -2, bias, 1e-13);
        check(matrix(DType.F64, 5, 9, true), random(DType.F64, 2, 9, 4), Tensor.empty(DType.F64, 2, 5, 4), 1, 0, null,
            1e-13);
    }

    @Test
    void randomShapesAndLayouts() {
        DType[] weights = {DType.F32, DType.BF16, DType.F16};
        for (int trial = 0; trial < 25; trial++) {
            int m = 1 + rnd.nextInt(70);
            int k = 1 + rnd.nextInt(2 * KC + 20);
            int n = 1 + rnd.nextInt(3 * NR + 7);
            DType w = weights[rnd.nextInt(weights.length)];
            boolean bias = rnd.nextBoolean();
            check(matrix(DType.F32, m, k, rnd.nextBoolean()), matrix(w, k, n, rnd.nextBoolean()),
                random(DType.F32, m, n), rnd.nextDouble() * 2 - 1, rnd.nextBoolean() ? 0 : 0.5,
                bias ? random(DType.F32, n) : null, 1e-5);
        }
    }

    @Test
    void mismatchedShapesAreRejectedWithTheirShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.cpu().matmul(
            random(DType.F32, 3, 4), random(DType.F32, 5, 6), Tensor.empty(DType.F32, 3, 6), 1, 0, null));
        assertTrue(e.getMessage().contains("[3, 4]") && e.getMessage().contains("[5, 6]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Backends.cpu().matmul(random(DType.F32, 2, 3, 4),
            random(DType.F32, 3, 4, 6), Tensor.empty(DType.F32, 2, 3, 6), 1, 0, null));
        assertThrows(IllegalArgumentException.class, () -> Backends.cpu().matmul(random(DType.F32, 3, 4),
            random(DType.F32, 4, 6), Tensor.empty(DType.F32, 3, 6), 1, 0, random(DType.F32, 5)));
    }
}
