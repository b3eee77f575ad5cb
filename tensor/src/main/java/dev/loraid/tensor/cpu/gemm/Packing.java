package dev.loraid.tensor.cpu.gemm;

import dev.loraid.tensor.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Copies blocks of A and B into the micro-kernel's layouts, converting to fp32 on the way (per block, never a
 * whole tensor). Rows of A beyond M and columns of B beyond N are zero-filled, so edge tiles run the same
 * kernel and only the final write to C is clipped.
 */
final class Packing {
    private static final int MR = GemmTiling.MR;
    private static final int NR = GemmTiling.NR;
    private static final VectorSpecies<Float> S = GemmTiling.SPECIES;
    private static final int L = GemmTiling.LANES;
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private Packing() {
    }

    /**
     * A[i0 .. i0+mc, k0 .. k0+kc] into ceil(mc/MR) strips in the micro-kernel's order (BLIS's): strip s starts at
     * {@code s*MR*kc} and holds, for each k, its MR rows' values at that k, so element (r, k) of the strip sits at
     * {@code s*MR*kc + k*MR + r} and one step of the kernel reads one run of MR floats. A's values go through
     * {@code scratch} (mc x kc floats): its rows as K-runs when A's columns are contiguous (activations), its
     * columns as M-runs when A's rows are (a transposed view such as dYᵀ in a weight gradient).
     */
    static void packA(StridedMatrix a, int i0, int mc, int k0, int kc, float[] dst, float[] scratch) {
        int strips = (mc + MR - 1) / MR;
        if (mc % MR != 0) {
            Arrays.fill(dst, (strips - 1) * MR * kc, strips * MR * kc, 0f);
        }
        if (a.colStride() != 1 && a.rowStride() == 1 && mc > 1) {
            for (int k = 0; k < kc; k++) {
                a.readColumn(i0, k0 + k, mc, scratch, k * mc);
            }
            for (int i = 0; i < mc; i += MR) {
                int rows = Math.min(MR, mc - i);
                for (int k = 0, at = i * kc, from = i; k < kc; k++, at += MR, from += mc) {
                    for (int r = 0; r < rows; r++) {
                        dst[at + r] = scratch[from + r];
                    }
                }
            }
        } else {
            for (int r = 0; r < mc; r++) {
                a.readRow(i0 + r, k0, kc, scratch, r * kc);
            }
            for (int r = 0; r < mc; r++) {
                for (int k = 0, at = r / MR * MR * kc + r % MR, from = r * kc; k < kc; k++, at += MR, from++) {
                    dst[at] = scratch[from];
                }
            }
        }
    }

    /**
     * B[k0 .. k0+kc, j0 .. j0+nc] into ceil(nc/NR) panels; panel p holds kc rows of NR floats, starting at
     * {@code p*kc*NR}. Rows of B are read as runs when B's columns are contiguous (a row-major weight);
     * otherwise (a transposed weight, K contiguous) the panel's columns are read as runs into {@code columns}
     * (NR x kc floats) and transposed from there.
     */
    static void packB(PanelSource b, int k0, int kc, int j0, int nc, float[] dst, float[] columns) {
        b.packPanels(k0, kc, j0, nc, dst, 0, columns);
    }

    /**
     * A full panel of an F32 B with contiguous rows, a vector per load and store: one bulk copy per panel row
     * cost more in its checks and stub call than the copy itself (a LoRA's weight gradient packs a whole
     * activation for only its rank's rows of output).
     */
    private static void packF32Rows(StridedMatrix b, int k0, int kc, int j, float[] dst, int base) {
        MemorySegment seg = b.segment();
        long row = (b.offset() + k0 * b.rowStride() + j) * Float.BYTES;
        long step = b.rowStride() * Float.BYTES;
        for (int k = 0, at = base; k < kc; k++, at += NR, row += step) {
            FloatVector.fromMemorySegment(S, seg, row, LE).intoArray(dst, at);
            FloatVector.fromMemorySegment(S, seg, row + (long) L * Float.BYTES, LE).intoArray(dst, at + L);
        }
    }

    /** B[k0 .. k0+kc, j .. j+w] (w <= NR) as one panel of kc rows of NR floats at {@code dst[base]}. */
    static void packPanel(StridedMatrix b, int k0, int kc, int j, int w, float[] dst, int base, float[] columns) {
        boolean rowRuns = b.colStride() == 1 || b.rowStride() != 1 && Math.abs(b.colStride()) <= Math.abs(b.rowStride());
        if (w == NR && b.colStride() == 1 && b.dtype() == DType.F32) {
            packF32Rows(b, k0, kc, j, dst, base);
        } else if (rowRuns) {
            for (int k = 0; k < kc; k++) {
                int at = base + k * NR;
                b.readRow(k0 + k, j, w, dst, at);
                if (w < NR) {
                    Arrays.fill(dst, at + w, at + NR, 0f);
                }
            }
        } else {
            // read the panel's columns as K-runs, then write each k-row of the panel contiguously
            for (int c = 0; c < w; c++) {
                b.readColumn(k0, j + c, kc, columns, c * kc);
            }
            for (int k = 0; k < kc; k++) {
                int at = base + k * NR;
                for (int c = 0; c < w; c++) {
                    dst[at + c] = columns[c * kc + k];
                }
                for (int c = w; c < NR; c++) {
                    dst[at + c] = 0f;
                }
            }
        }
    }
}
