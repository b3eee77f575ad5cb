package dev.loraid.tensor.cpu;

import dev.loraid.tensor.ConvGeometry;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.cpu.gemm.GemmTiling;
import dev.loraid.tensor.cpu.gemm.PanelSource;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The patches of one batch item of a 3-D convolution as the right operand of the implicit GEMM
 * {@code out[n] [O, To·Ho·Wo] = weight [O, K] · patches [K, To·Ho·Wo]}: row k = (input channel, dt, dh, dw) in the
 * weight's order, column p = an output position. Packed straight from x into the GEMM's panels, a run of output
 * columns at a time; zero padding is the positions whose input lies outside x. Nothing of size K x P exists.
 */
final class ConvPatches implements PanelSource {
    private static final int NR = GemmTiling.NR;
    private static final FloatVector ZERO = FloatVector.zero(Lanes.F);
    /** Ints per run ({@link #runs}). */
    private static final int RUN = 5;

    private final MemorySegment src;
    private final DType dtype;
    private final ConvGeometry g;
    private final long[] xs;
    /** Element offset of batch item n in x. */
    private final long xBase;
    /** Per row k: the input channel's element offset, the kernel taps and the output columns that read inside x. */
    private final long[] channelOffset;
    private final int[] dt;
    private final int[] dh;
    private final int[] dw;
    private final int[] wLo;
    private final int[] wHi;
    /** x is F32 and a run of output columns reads consecutive input columns: copied as vectors (copyF32). */
    private final boolean unitF32;

    ConvPatches(Tensor x, int n, ConvGeometry g) {
        this.src = x.storage().segment();
        this.dtype = x.dtype();
        this.g = g;
        this.xs = x.strides();
        this.xBase = x.offset() + n * xs[0];
        this.unitF32 = x.dtype() == DType.F32 && xs[4] * g.sw() == 1;
        int kernel = g.kt() * g.kh() * g.kw();
        channelOffset = new long[g.k()];
        dt = new int[g.k()];
        dh = new int[g.k()];
        dw = new int[g.k()];
        wLo = new int[g.k()];
        wHi = new int[g.k()];
        for (int k = 0; k < g.k(); k++) {
            int rem = k % kernel;
            channelOffset[k] = (long) (k / kernel) * xs[1];
            dt[k] = rem / (g.kh() * g.kw());
            dh[k] = rem / g.kw() % g.kh();
            dw[k] = rem % g.kw();
            // output columns whose input column w·sw + dw − left lies inside [0, W)
            wLo[k] = Math.max(0, ConvGeometry.ceilDiv(g.left() - dw[k], g.sw()));
            wHi[k] = Math.min(g.wo() - 1, Math.floorDiv(g.w() - 1 + g.left() - dw[k], g.sw()));
        }
    }

    @Override
    public int rows() {
        return g.k();
    }

    @Override
    public int cols() {
        return Math.multiplyExact(Math.multiplyExact(g.to(), g.ho()), g.wo());
    }

    @Override
    public PanelSource at(long offset) {
        return this;
    }

    @Override
    public void packPanel(int k0, int kc, int j, int w, float[] dst, int base, float[] scratch) {
        packPanels(k0, kc, j, w, dst, base, scratch);
    }

    /**
     * Row by row of K across all the panels: consecutive panels read consecutive input columns, so each input row is
     * read as one stream. Panel by panel, the kc rows of a panel (each from another input row, plane or channel) were
     * kc streams at once, more than the prefetchers follow: the copies waited on L3 (15% of a VAE encode's samples).
     */
    @Override
    public void packPanels(int k0, int kc, int j0, int nc, float[] dst, int base, float[] scratch) {
        packRuns(runs(j0, nc, kc, base), k0, kc, dst);
        int panels = (nc + NR - 1) / NR;
        int w = nc - (panels - 1) * NR;
        if (w < NR) {
            int last = base + (panels - 1) * kc * NR;
            for (int kk = 0; kk < kc; kk++) {
                zero(dst, last + kk * NR + w, last + (kk + 1) * NR);
            }
        }
    }

    /** Four panels per claim of the shared-B driver, so that its threads pack rows across panels too. */
    @Override
    public int panelsPerClaim() {
        return 4;
    }

    /**
     * Columns j0 .. j0+nc cut at panel and output-row ends into runs of {@value #RUN} ints each: output frame, row,
     * first column, length, and where the run's first element goes in K row 0 of its panel.
     */
    private int[] runs(int j0, int nc, int kc, int base) {
        int panels = (nc + NR - 1) / NR;
        int[] r = new int[RUN * panels * (NR / g.wo() + 2)];
        int n = 0;
        for (int q = 0; q < panels; q++) {
            int j = j0 + q * NR;
            int end = Math.min(j0 + nc, j + NR);
            for (int p = j; p < end; ) {
                int row = p / g.wo();
                int col = p % g.wo();
                int run = Math.min(end - p, g.wo() - col);
                r[n++] = row / g.ho();
                r[n++] = row % g.ho();
                r[n++] = col;
                r[n++] = run;
                r[n++] = base + q * kc * NR + (p - j);
                p += run;
            }
        }
        return Arrays.copyOf(r, n);
    }

    /** Every run of {@code runs} for rows k0 .. k0+kc of K, one row of K at a time. */
    private void packRuns(int[] runs, int k0, int kc, float[] dst) {
        for (int kk = 0; kk < kc; kk++) {
            int k = k0 + kk;
            for (int i = 0; i < runs.length; i += RUN) {
                int t = runs[i];
                int h = runs[i + 1];
                int col = runs[i + 2];
                int run = runs[i + 3];
                int at = runs[i + 4] + kk * NR;
                int ti = t * g.st() + dt[k] - g.front();
                int hi = h * g.sh() + dh[k] - g.top();
                int lo = Math.max(col, wLo[k]);
                int hiCol = Math.min(col + run - 1, wHi[k]);
                if (ti < 0 || ti >= g.t() || hi < 0 || hi >= g.h() || lo > hiCol) {
                    zero(dst, at, at + run);
                    continue;
                }
                zero(dst, at, at + (lo - col));
                long from = xBase + channelOffset[k] + ti * xs[2] + hi * xs[3]
                    + (long) (lo * g.sw() + dw[k] - g.left()) * xs[4];
                if (unitF32) {
                    copyF32(src, from, dst, at + (lo - col), hiCol - lo + 1);
                } else {
                    FloatRuns.read(src, dtype, from, xs[4] * g.sw(), dst, at + (lo - col), hiCol - lo + 1);
                }
                zero(dst, at + (hiCol - col) + 1, at + run);
            }
        }
    }

    /**
     * Zeros dst[from, to) (nothing when to ≤ from): at most a panel row (NR floats) at a time, as vector stores;
     * {@code Arrays.fill}'s call and checks cost more than the stores at these lengths (it was 14% of a VAE encode's
     * samples).
     */
    private static void zero(float[] dst, int from, int to) {
        int i = from;
        for (; i + Lanes.VL <= to; i += Lanes.VL) {
            ZERO.intoArray(dst, i);
        }
        for (; i < to; i++) {
            dst[i] = 0f;
        }
    }

    /**
     * {@code len} floats from element {@code from} of src into dst: the runs here are at most a panel row (NR floats),
     * where {@link FloatRuns#read}'s dispatch and bulk-copy checks cost more than the copy (they were a quarter of a
     * VAE encode's packing time); a masked vector covers the tail.
     */
    private static void copyF32(MemorySegment src, long from, float[] dst, int at, int len) {
        long bytes = from * Float.BYTES;
        int i = 0;
        for (; i + Lanes.VL <= len; i += Lanes.VL) {
            FloatVector.fromMemorySegment(Lanes.F, src, bytes + (long) i * Float.BYTES, ByteOrder.LITTLE_ENDIAN)
                .intoArray(dst, at + i);
        }
        if (i < len) {
            VectorMask<Float> m = Lanes.F.indexInRange(i, len);
            FloatVector.fromMemorySegment(Lanes.F, src, bytes + (long) i * Float.BYTES, ByteOrder.LITTLE_ENDIAN, m)
                .intoArray(dst, at + i, m);
        }
    }
}
