package dev.loraid.tensor.cpu.gemm;

/**
 * The right operand B [K, N] of a product as the micro-kernel reads it: panel by panel, each NR columns wide and
 * converted to fp32. A tensor view ({@link StridedMatrix}) packs its elements; an implicit operand (a convolution's
 * patches) packs values that exist nowhere else, so the product never needs the whole matrix in memory.
 */
public interface PanelSource {
    /** K. */
    int rows();

    /** N. */
    int cols();

    /** The same operand for another batch, whose elements start at {@code offset} (operands of one batch only ignore it). */
    PanelSource at(long offset);

    /**
     * B[k0 .. k0+kc, j .. j+w] (w ≤ NR) as kc rows of {@link GemmTiling#NR} floats at {@code dst[base]}, columns
     * beyond w zero; {@code scratch} holds NR·KC floats for the packer's own use.
     */
    void packPanel(int k0, int kc, int j, int w, float[] dst, int base, float[] scratch);

    /**
     * B[k0 .. k0+kc, j0 .. j0+nc] as ceil(nc/NR) panels, panel p at {@code dst[base + p*kc*NR]}: by default panel by
     * panel; a source whose rows are far apart in memory packs a row of every panel at a time instead.
     */
    default void packPanels(int k0, int kc, int j0, int nc, float[] dst, int base, float[] scratch) {
        int nr = GemmTiling.NR;
        for (int p = 0; p * nr < nc; p++) {
            packPanel(k0, kc, j0 + p * nr, Math.min(nr, nc - p * nr), dst, base + p * kc * nr, scratch);
        }
    }

    /**
     * Panels a thread of the shared-B driver claims at a time: one by default (on the fp32 GEMMs claims of four were
     * no faster and showed more slow outliers on the 1536-wide shapes, in noisy runs); more for a source whose
     * {@link #packPanels} reads longer runs across panels.
     */
    default int panelsPerClaim() {
        return 1;
    }
}
