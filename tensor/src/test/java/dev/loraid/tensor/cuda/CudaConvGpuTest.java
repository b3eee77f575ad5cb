package dev.loraid.tensor.cuda;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.cpu.TestTensors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static dev.loraid.tensor.cpu.TestTensors.Layout.CONTIGUOUS;
import static dev.loraid.tensor.cpu.TestTensors.Layout.NARROWED;
import static dev.loraid.tensor.cpu.TestTensors.Layout.TRANSPOSED;
import static dev.loraid.tensor.cpu.TestTensors.random;
import static dev.loraid.tensor.cuda.GpuHarness.check;
import static dev.loraid.tensor.cuda.GpuHarness.outs;
import static dev.loraid.tensor.cuda.GpuHarness.tolerance;

/**
 * What the op table (BackendOpsTest's {@code cuda} cases, one tile each at the default budget) does not reach on the
 * CUDA convolution and biased attention, against the CPU backend: many tiles (budgets of one output row, a remainder
 * tile), outputs whose positions do not merge, and attention with a bias at the text encoder's head dim.
 */
@Tag("gpu")
class CudaConvGpuTest {
    private static final int[] X = {2, 3, 4, 5, 6};
    private static final int[] W = {4, 3, 3, 2, 3};
    private static final int[] STRIDE = {1, 2, 1};
    private static final int[] PAD = {2, 0, 1, 0, 1, 1};
    private static final long[] OUT = {2, 4, 4, 3, 6};
    /** One output row (K·Wo = 54·6), three rows and a bit (a remainder tile), everything. */
    private static final long[] BUDGETS = {1, 54 * 6 * 3 + 7, CudaConv.TILE_ELEMENTS};

    private final Random rnd = new Random(20261207);

    @BeforeEach
    void gpu() {
        GpuHarness.gpuOrSkip();
    }

    private static long[] longs(int[] v) {
        return java.util.Arrays.stream(v).asLongStream().toArray();
    }

    @Test
    void forwardOverManyTiles() {
        for (DType t : new DType[] {DType.F32, DType.BF16}) {
            for (long budget : BUDGETS) {
                Tensor x = random(rnd, t, NARROWED, longs(X));
                Tensor w = random(rnd, t, CONTIGUOUS, 0.3, 0, longs(W));
                Tensor bias = random(rnd, t, CONTIGUOUS, W[0]);
                // TRANSPOSED swaps the last two dims in memory: positions that do not merge, computed contiguous first
                for (TestTensors.Layout outLayout : new TestTensors.Layout[] {CONTIGUOUS, TRANSPOSED}) {
                    Tensor out = TestTensors.empty(t, outLayout, OUT);
                    check("conv3d " + t + " budget " + budget + " out " + outLayout, tolerance(t) * 8,
                        new Tensor[] {x, w, bias, out}, outs(3), (b, a) -> conv(budget).forward(b, a));
                }
            }
        }
    }

    @Test
    void backwardOverManyTiles() {
        for (DType t : new DType[] {DType.F32, DType.BF16}) {
            for (long budget : BUDGETS) {
                Tensor x = random(rnd, t, CONTIGUOUS, longs(X));
                Tensor w = random(rnd, t, CONTIGUOUS, 0.3, 0, longs(W));
                Tensor g = random(rnd, t, TRANSPOSED, OUT);
                Tensor dx = TestTensors.empty(t, NARROWED, longs(X));
                Tensor dw = TestTensors.empty(t, CONTIGUOUS, longs(W));
                Tensor db = TestTensors.empty(t, CONTIGUOUS, W[0]);
                check("conv3dBackward " + t + " budget " + budget, tolerance(t) * 8,
                    new Tensor[] {x, w, g, dx, dw, db}, outs(3, 4, 5), (b, a) -> conv(budget).backward(b, a));
            }
        }
    }

    /** Calls the CPU backend's op, or the CUDA one with the given tile budget. */
    private interface Conv {
        void forward(Backend b, Tensor[] a);

        void backward(Backend b, Tensor[] a);
    }

    private static Conv conv(long budget) {
        return new Conv() {
            @Override
            public void forward(Backend b, Tensor[] a) {
                if (b instanceof CudaBackend cuda) {
                    cuda.convKernels().forward(a[0], a[1], a[2], STRIDE, PAD, a[3], budget);
                } else {
                    b.conv3d(a[0], a[1], a[2], STRIDE, PAD, a[3]);
                }
            }

            @Override
            public void backward(Backend b, Tensor[] a) {
                if (b instanceof CudaBackend cuda) {
                    cuda.convKernels().backward(a[0], a[1], a[2], STRIDE, PAD, a[3], a[4], a[5], budget);
                } else {
                    b.conv3dBackward(a[0], a[1], a[2], STRIDE, PAD, a[3], a[4], a[5]);
                }
            }
        };
    }

    /**
     * UMT5's attention shape in small: head dim 64, BF16 q/k/v from [L, H·D] rows, an F32 bias [H, Lq, Lk] expanded
     * over the batch with stride 0, key lengths masking the tail of one batch, and a finite most-negative bias column
     * (the encoder's padding mask with holes).
     */
    @Test
    void attentionWithBiasAtTheTextEncodersHeadDim() {
        int bs = 2;
        int h = 4;
        int l = 37;
        int d = 64;
        for (DType t : new DType[] {DType.BF16, DType.F32}) {
            Tensor q = random(rnd, t, CONTIGUOUS, bs, l, h, d).permute(0, 2, 1, 3);
            Tensor k = random(rnd, t, CONTIGUOUS, bs, l, h, d).permute(0, 2, 1, 3);
            Tensor v = random(rnd, t, CONTIGUOUS, bs, l, h, d).permute(0, 2, 1, 3);
            Tensor table = random(rnd, DType.F32, CONTIGUOUS, 2.0, 0.0, h, l, l);
            Backends.cpu().fill(table.narrow(2, 5, 1), -Float.MAX_VALUE);
            Tensor bias = table.unsqueeze(0).expand(bs, h, l, l);
            Tensor out = TestTensors.empty(DType.F32, CONTIGUOUS, bs, l, h, d).permute(0, 2, 1, 3);
            int[] kv = {l, 30};
            check("attentionWithBias " + t, tolerance(t) * 4, new Tensor[] {q, k, v, bias, out}, outs(4),
                (b, a) -> b.attentionWithBias(a[0], a[1], a[2], a[3], 0.125, kv, a[4]));
        }
    }
}
