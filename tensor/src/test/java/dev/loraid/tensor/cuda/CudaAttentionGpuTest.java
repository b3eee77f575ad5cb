package dev.loraid.tensor.cuda;

import dev.loraid.tensor.cpu.TestTensors;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static dev.loraid.tensor.cpu.TestTensors.Layout.CONTIGUOUS;
import static dev.loraid.tensor.cuda.GpuHarness.check;
import static dev.loraid.tensor.cuda.GpuHarness.outs;
import static dev.loraid.tensor.cpu.TestTensors.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The fused attention kernels against the CPU backend: [B, L, H, D] memory seen as permuted [B, H, L, D] views (the
 * models' layout), lengths that are not multiples of the tiles, key masks including an empty one, and D ≠ Dv. Every
 * case runs on each {@link AttentionPath} asked for explicitly (a path that cannot take a case falls back, and the
 * test records which one ran).
 */
@Tag("gpu")
class CudaAttentionGpuTest {
    private final Random rnd = new Random(7);

    @BeforeEach
    void gpu() {
        GpuHarness.gpuOrSkip();
    }

    /**
     * {@code -Dloraid.test.attention.paths=FLASH,MMA} limits the paths tested (scripts/gpu-check.sh tests each path in
     * its own JVM, so that a faulting kernel cannot take the other paths' results with it); default: all.
     */
    private static void selectedOrSkip(AttentionPath path) {
        String only = System.getProperty("loraid.test.attention.paths", "");
        assumeTrue(only.isBlank() || java.util.Arrays.asList(only.toUpperCase(java.util.Locale.ROOT).split(","))
            .contains(path.name()), () -> path + " not selected by -Dloraid.test.attention.paths=" + only);
    }

    /** A [B, H, L, D] view of [B, L, H, D] memory. */
    private Tensor blhd(DType t, long b, long h, long l, long d) {
        return random(rnd, t, CONTIGUOUS, b, l, h, d).permute(0, 2, 1, 3);
    }

    /** The paths that ran the last forward and backward on the GPU (the CPU runs the plain backend calls). */
    private final AttentionPath[] ran = new AttentionPath[2];

    private void forwardAndBackward(AttentionPath path, DType t, long b, long h, long lq, long lk, long d, long dv,
                                    int[] kv, double tol) {
        selectedOrSkip(path);
        Tensor q = blhd(t, b, h, lq, d);
        Tensor k = blhd(t, b, h, lk, d);
        Tensor v = blhd(t, b, h, lk, dv);
        Tensor out = Tensor.zeros(t, b, lq, h, dv).permute(0, 2, 1, 3);
        Tensor lse = Tensor.zeros(DType.F32, b, h, lq);
        double scale = 1 / Math.sqrt(d);
        CudaAttention gpu = ((CudaBackend) Backends.of(GpuHarness.GPU)).attentionKernels();
        AttentionPath expected = gpu.resolveHere(path, q, k, v, kv);
        String what = "attention " + t + " [" + b + "," + h + "," + lq + "/" + lk + "," + d + "/" + dv + "] on "
            + expected;
        check(what, tol, new Tensor[] {q, k, v, out, lse}, outs(3, 4), (be, a) -> {
            if (be instanceof CudaBackend c) {
                ran[0] = c.attentionKernels().forward(path, a[0], a[1], a[2], scale, kv, a[3], a[4]);
            } else {
                be.attention(a[0], a[1], a[2], scale, kv, a[3], a[4]);
            }
        });
        Tensor o = Tensor.zeros(t, b, h, lq, dv);
        Tensor l = Tensor.zeros(DType.F32, b, h, lq);
        Backends.cpu().attention(q, k, v, scale, kv, o, l);
        Tensor dOut = blhd(t, b, h, lq, dv);
        check(what + " backward", tol * 3, new Tensor[] {q, k, v, o, dOut, l, Tensor.zeros(t, b, h, lq, d),
            Tensor.zeros(t, b, lk, h, d).permute(0, 2, 1, 3), Tensor.zeros(t, b, h, lk, dv)}, outs(6, 7, 8), (be, a) -> {
                if (be instanceof CudaBackend c) {
                    ran[1] = c.attentionKernels().backward(path, a[0], a[1], a[2], a[3], a[4], a[5], scale, kv, a[6],
                        a[7], a[8]);
                } else {
                    be.attentionBackward(a[0], a[1], a[2], a[3], a[4], a[5], scale, kv, a[6], a[7], a[8]);
                }
            });
        // cuDNN may decline a graph (logged at INFO): the call then runs on the kernels' chain; cudnnShapes insists
        AttentionPath declined = CudaAttention.resolve(AttentionPath.CUDNN.fallback(), q, k, v, kv);
        boolean cudnn = expected == AttentionPath.CUDNN;
        assertTrue(ran[0] == expected || cudnn && ran[0] == declined, what + ": the forward ran on " + ran[0]);
        assertTrue(ran[1] == ran[0] || cudnn && ran[1] == declined, what + ": the backward ran on " + ran[1]);
    }

    @ParameterizedTest
    @EnumSource(AttentionPath.class)
    void oddShapesAndMasks(AttentionPath path) {
        forwardAndBackward(path, DType.F32, 2, 3, 37, 45, 24, 24, new int[] {45, 17}, 2e-4);
        forwardAndBackward(path, DType.F32, 1, 2, 5, 70, 16, 40, null, 2e-4);
        forwardAndBackward(path, DType.F32, 2, 1, 33, 9, 8, 8, new int[] {0, 9}, 2e-4);
        forwardAndBackward(path, DType.F64, 1, 2, 19, 23, 12, 12, new int[] {11}, 1e-9);
    }

    @ParameterizedTest
    @EnumSource(AttentionPath.class)
    void bf16AndF16OnTheTensorCoreKernels(AttentionPath path) {
        assertNotNull(CudaAttention.mmaKernel(Tensor.zeros(DType.BF16, 1, 1, 1, 128), Tensor.zeros(DType.BF16, 1, 1, 1, 128),
            Tensor.zeros(DType.BF16, 1, 1, 1, 128)), "BF16 at D = 128 takes the tensor-core kernel");
        forwardAndBackward(path, DType.BF16, 1, 2, 130, 97, 128, 128, null, 3e-2);
        forwardAndBackward(path, DType.BF16, 2, 3, 100, 77, 64, 32, new int[] {77, 5}, 3e-2);
        forwardAndBackward(path, DType.F16, 1, 1, 64, 64, 64, 64, null, 5e-3);
        forwardAndBackward(path, DType.F16, 1, 2, 65, 129, 16, 48, new int[] {0}, 5e-3);
    }

    /** Asserts that the FLASH forward takes these inputs (in the models' layout), then runs the case on {@code path}. */
    private void flashCase(AttentionPath path, DType t, long b, long h, long lq, long lk, long d, int[] kv, double tol) {
        Tensor q = blhd(t, b, h, lq, d);
        Tensor kv4 = blhd(t, b, h, lk, d);
        assertEquals(AttentionPath.FLASH, CudaAttention.resolve(AttentionPath.FLASH, q, kv4, kv4, kv),
            "FLASH takes " + t + " D = " + d);
        forwardAndBackward(path, t, b, h, lq, lk, d, d, kv, tol);
    }

    @ParameterizedTest
    @EnumSource(AttentionPath.class)
    void flashTilesMasksAndHeadDims(AttentionPath path) {
        // lengths off the 128-row and 64-key tiles, an empty and a 5-key mask next to a full one, B = 2
        flashCase(path, DType.BF16, 2, 3, 130, 257, 128, new int[] {0, 257}, 3e-2);
        flashCase(path, DType.BF16, 2, 2, 1, 63, 64, new int[] {5, 63}, 3e-2);
        flashCase(path, DType.BF16, 1, 2, 257, 130, 64, null, 3e-2);
        flashCase(path, DType.F16, 2, 2, 257, 130, 128, new int[] {130, 5}, 5e-3);
        flashCase(path, DType.F16, 2, 1, 63, 1, 64, new int[] {1, 0}, 5e-3);
        flashCase(path, DType.F16, 1, 3, 128, 128, 128, null, 5e-3);
    }

    /** The FLASH epilogue's element stores: an F32 out, and a BF16 out whose rows are not 16-byte aligned. */
    @ParameterizedTest
    @EnumSource(AttentionPath.class)
    void flashOutViewsOffTheVectorStores(AttentionPath path) {
        selectedOrSkip(path);
        long b = 2, h = 3, lq = 70, lk = 90, d = 64;
        Tensor q = blhd(DType.BF16, b, h, lq, d);
        Tensor k = blhd(DType.BF16, b, h, lk, d);
        Tensor v = blhd(DType.BF16, b, h, lk, d);
        int[] kv = {90, 33};
        for (Tensor out : new Tensor[] {Tensor.zeros(DType.F32, b, h, lq, d),
            Tensor.zeros(DType.BF16, b, lq, h, d + 1).narrow(3, 1, d).permute(0, 2, 1, 3)}) {
            check("attention into " + out.dtype() + " " + java.util.Arrays.toString(out.strides()) + " on "
                    + CudaAttention.resolve(path, q, k, v, kv), 3e-2,
                new Tensor[] {q, k, v, out, Tensor.zeros(DType.F32, b, h, lq)}, outs(3, 4), (be, a) -> {
                    if (be instanceof CudaBackend c) {
                        ran[0] = c.attentionKernels().forward(path, a[0], a[1], a[2], 0.125, kv, a[3], a[4]);
                    } else {
                        be.attention(a[0], a[1], a[2], 0.125, kv, a[3], a[4]);
                    }
                });
            assertEquals(CudaAttention.resolve(path, q, k, v, kv), ran[0]);
        }
    }

    /**
     * The shapes cuDNN's SDPA graphs take (BF16/F16, D = 128 and 64, the models' [B, L, H, D] memory, lengths off
     * the tiles, B = 2) on every path; asked for CUDNN they must run on cuDNN when libcudnn is on this machine.
     */
    @ParameterizedTest
    @EnumSource(AttentionPath.class)
    void cudnnShapes(AttentionPath path) {
        selectedOrSkip(path);
        String why = ((CudaBackend) Backends.of(GpuHarness.GPU)).attentionKernels().cudnnUnavailableReason();
        boolean insist = path == AttentionPath.CUDNN && why == null;
        long[][] cases = {{2, 3, 130, 257, 128}, {1, 2, 257, 130, 64}, {2, 2, 130, 130, 128}, {1, 4, 64, 200, 64}};
        for (long[] c : cases) {
            for (DType t : new DType[] {DType.BF16, DType.F16}) {
                forwardAndBackward(path, t, c[0], c[1], c[2], c[3], c[4], c[4], null, t == DType.BF16 ? 3e-2 : 5e-3);
                if (insist) {
                    String what = t + " " + java.util.Arrays.toString(c);
                    assertEquals(AttentionPath.CUDNN, ran[0], what + ": the forward ran on cuDNN (declines: INFO log)");
                    assertEquals(AttentionPath.CUDNN, ran[1], what + ": the backward ran on cuDNN (declines: INFO log)");
                }
            }
        }
        assumeTrue(path != AttentionPath.CUDNN || why == null,
            () -> "cuDNN not loaded here, so the CUDNN path was not asserted: " + why);
    }

    @ParameterizedTest
    @EnumSource(AttentionPath.class)
    void narrowTypesOffTheTensorCoreKernels(AttentionPath path) {
        assertNull(CudaAttention.mmaKernel(Tensor.zeros(DType.BF16, 1, 1, 1, 24), Tensor.zeros(DType.BF16, 1, 1, 1, 24),
            Tensor.zeros(DType.BF16, 1, 1, 1, 24)), "D = 24 is not a multiple of 16");
        forwardAndBackward(path, DType.BF16, 1, 2, 20, 30, 24, 24, null, 3e-2);
    }

    /**
     * Calls the FLASH kernels take (BF16 and F16, D = Dv in {64, 128}, the models' [B, L, H, D] layout) with lengths
     * off the 64-row tiles (1, 63, 130, 257) and per-batch key lengths 0, 5 and full: the path that ran is FLASH.
     */
    @ParameterizedTest
    @EnumSource(value = AttentionPath.class, names = "FLASH")
    void flashTakesTheModelsLayout(AttentionPath path) {
        Object[][] cases = {
            {DType.BF16, 2L, 2L, 257L, 130L, 128L, new int[] {0, 130}, 3e-2},
            {DType.BF16, 2L, 3L, 63L, 257L, 64L, new int[] {5, 257}, 3e-2},
            {DType.F16, 1L, 2L, 130L, 63L, 128L, null, 5e-3},
            {DType.F16, 2L, 1L, 1L, 1L, 64L, new int[] {1, 0}, 5e-3},
            {DType.BF16, 1L, 1L, 1L, 257L, 128L, null, 3e-2},
            {DType.F16, 2L, 2L, 257L, 5L, 64L, new int[] {5, 3}, 5e-3},
        };
        for (Object[] c : cases) {
            long d = (Long) c[5];
            forwardAndBackward(path, (DType) c[0], (Long) c[1], (Long) c[2], (Long) c[3], (Long) c[4], d, d, (int[]) c[6],
                (Double) c[7]);
            assertEquals(AttentionPath.FLASH, ran[1], "the backward of " + java.util.Arrays.toString(c) + " on FLASH");
        }
    }
}
