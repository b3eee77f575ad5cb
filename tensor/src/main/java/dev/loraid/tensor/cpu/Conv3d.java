package dev.loraid.tensor.cpu;

import dev.loraid.tensor.ConvGeometry;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Precision;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.cpu.gemm.Gemm;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * 3-D convolution ({@link dev.loraid.tensor.Backend#conv3d}) as an implicit GEMM. In fp32 (and BF16/F16 inputs),
 * each batch item is one product {@code out[n] [O, P] = weight [O, K] · patches [K, P]} (K = I·kt·kh·kw in the
 * weight's order, P = the output positions) whose right operand is packed panel by panel straight from x
 * ({@link ConvPatches}): no column matrix exists, not even a tile of one. The fp64 reference path is tiled as
 * {@link ConvGeometry} describes (as the CUDA convolution is): for each tile of whole output rows the patches are
 * packed into a [K, P] column block of at most {@link #TILE_ELEMENTS} values (a per-thread buffer reused across
 * calls) that {@link Gemm} multiplies; the backward reuses those blocks. Zero padding is applied while packing: an
 * out-of-range input position packs as 0.
 */
final class Conv3d {
    /** Column-block budget in elements (16 MiB of fp32). */
    static final long TILE_ELEMENTS = 1L << 22;
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Conv3d() {
    }

    static void forward(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding, Tensor out) {
        forward(x, weight, bias, stride, padding, out, TILE_ELEMENTS);
    }

    /** With a column-block budget of {@code tileElements} values (tests use tiny ones). */
    static void forward(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding, Tensor out,
                        long tileElements) {
        ConvGeometry g = ConvGeometry.of(x, weight, bias, stride, padding, out);
        boolean fp64 = Precision.fp64(x, weight, bias, out);
        Tensor w2 = (weight.isContiguous() ? weight : weight.contiguous()).view(g.o(), g.k());
        if (!fp64) {
            implicit(x, w2, bias, out, g);
            return;
        }
        // fp64 (the reference precision): rows = flattened (output frame, output row) pairs; a tile is a run of them
        long rowsTotal = g.rows();
        int rowsPerTile = g.rowsPerTile(tileElements);
        boolean merged = g.positionsMerge(out);
        Tensor tile = tile(0, DType.F64, g.k(), (long) rowsPerTile * g.wo());
        for (int n = 0; n < g.n(); n++) {
            Tensor outN = out.select(0, n);
            // an output whose positions do not flatten to one stride is computed contiguous and copied back
            Tensor target = merged ? outN : Tensor.empty(out.device(), DType.F64, g.o(), g.to(), g.ho(), g.wo());
            for (long r0 = 0; r0 < rowsTotal; r0 += rowsPerTile) {
                int rows = (int) Math.min(rowsPerTile, rowsTotal - r0);
                Tensor cols = tile.narrow(1, 0, (long) rows * g.wo());
                pack(x, n, g, r0, rows, cols, true);
                Tensor c = g.tile(target, r0, rows);
                // cᵀ [P, O] = colsᵀ [P, K] · w2ᵀ [K, O] + bias: the GEMM's bias runs along its columns (= O here);
                // Gemm picks the cheaper operand order itself
                Gemm.matmul(cols.transpose(0, 1), w2.transpose(0, 1), c.transpose(0, 1), 1, 0, bias);
            }
            if (!merged) {
                StridedCopy.copy(target, outN);
            }
        }
    }

    /**
     * fp32 work as an implicit GEMM per batch item: {@code out[n] [O, P] = w2 [O, K] · patches [K, P] + bias}, the
     * patches packed straight from x into the GEMM's panels ({@link ConvPatches}). An output that is not F32 with
     * unit-stride positions is computed in an F32 temporary and copied.
     */
    private static void implicit(Tensor x, Tensor w2, Tensor bias, Tensor out, ConvGeometry g) {
        boolean direct = out.dtype() == DType.F32 && g.positionsMerge(out) && out.stride(4) == 1;
        long positions = g.rows() * g.wo();
        for (int n = 0; n < g.n(); n++) {
            Tensor outN = out.select(0, n);
            Tensor target = direct ? outN : Tensor.empty(out.device(), DType.F32, g.o(), g.to(), g.ho(), g.wo());
            Tensor c = new Tensor(target.storage(), DType.F32, Shape.of(g.o(), positions),
                new long[] {target.stride(0), 1}, target.offset());
            Gemm.matmul(w2, new ConvPatches(x, n, g), c, bias);
            if (!direct) {
                StridedCopy.copy(target, outN);
            }
        }
    }

    /**
     * The calling thread's column blocks (slot 0: the packed patches; slot 1: the backward's patch gradients),
     * reused from call to call (grown when too small), never scope memory.
     */
    private static final ThreadLocal<MemorySegment[]> TILE = ThreadLocal.withInitial(() -> new MemorySegment[2]);

    static Tensor tile(int slot, DType dtype, long k, long p) {
        long bytes = k * p * dtype.byteSize();
        MemorySegment[] held = TILE.get();
        if (held[slot] == null || held[slot].byteSize() < bytes) {
            held[slot] = java.lang.foreign.Arena.ofAuto().allocate(bytes, 64);
        }
        return new Tensor(dev.loraid.tensor.Storage.host(held[slot]), dtype, Shape.of(k, p), new long[] {p, 1}, 0);
    }

    /** Fills cols [K, rows·Wo] with the patches of flattened output rows [r0, r0 + rows) of batch n. */
    static void pack(Tensor x, int n, ConvGeometry g, long r0, int rows, Tensor cols, boolean fp64) {
        MemorySegment src = x.storage().segment();
        MemorySegment dst = cols.storage().segment();
        long[] xs = x.strides();
        long base = x.offset() + n * xs[0];
        long rowStride = cols.stride(0);
        long dstBase = cols.offset();
        int kernel = g.kt() * g.kh() * g.kw();
        Parallel.forRange(g.k(), 4, (k0, k1) -> {
            // per-thread rows (CpuScratch), not a fresh array per chunk: a VAE encode packs millions of rows, and fresh
            // arrays made gigabytes of young-generation garbage that the heap grew (and the process's RSS) to hold
            float[] f = fp64 ? null : CpuScratch.floats(0, g.wo());
            double[] d = fp64 ? CpuScratch.doubles(0, g.wo()) : null;
            for (long k = k0; k < k1; k++) {
                int i = (int) (k / kernel);
                int rem = (int) (k % kernel);
                int dt = rem / (g.kh() * g.kw());
                int dh = rem / g.kw() % g.kh();
                int dw = rem % g.kw();
                // output columns whose input column w·sw + dw − left lies inside [0, W)
                int wLo = Math.max(0, ConvGeometry.ceilDiv(g.left() - dw, g.sw()));
                int wHi = Math.min(g.wo() - 1, Math.floorDiv(g.w() - 1 + g.left() - dw, g.sw()));
                for (int r = 0; r < rows; r++) {
                    long row = r0 + r;
                    int t = (int) (row / g.ho());
                    int h = (int) (row % g.ho());
                    int ti = t * g.st() + dt - g.front();
                    int hi = h * g.sh() + dh - g.top();
                    boolean inside = ti >= 0 && ti < g.t() && hi >= 0 && hi < g.h() && wLo <= wHi;
                    long at = (dstBase + k * rowStride + (long) r * g.wo());
                    if (fp64) {
                        java.util.Arrays.fill(d, 0, g.wo(), 0);
                        if (inside) {
                            Lanes.load(src, x.dtype(), base + i * xs[1] + ti * xs[2] + hi * xs[3]
                                + (long) (wLo * g.sw() + dw - g.left()) * xs[4], xs[4] * g.sw(), d, wLo, wHi - wLo + 1);
                        }
                        MemorySegment.copy(d, 0, dst, F64, at * 8, g.wo());
                    } else {
                        java.util.Arrays.fill(f, 0, g.wo(), 0);
                        if (inside) {
                            FloatRuns.read(src, x.dtype(), base + i * xs[1] + ti * xs[2] + hi * xs[3]
                                + (long) (wLo * g.sw() + dw - g.left()) * xs[4], xs[4] * g.sw(), f, wLo, wHi - wLo + 1);
                        }
                        MemorySegment.copy(f, 0, dst, F32, at * 4, g.wo());
                    }
                }
            }
        });
    }

}
