package dev.loraid.tensor.cpu;

/**
 * Per-thread work buffers, reused across calls so a kernel's buffers stay in cache and allocate nothing per run.
 * A kernel owns the slots it asks for until it returns, and never calls another kernel while holding them
 * (slots are not re-entrant). Contents are stale: kernels clear whatever padding they rely on.
 */
final class CpuScratch {
    private static final int SLOTS = 6;
    private static final ThreadLocal<CpuScratch> LOCAL = ThreadLocal.withInitial(CpuScratch::new);

    private final float[][] floats = new float[SLOTS][0];
    private final double[][] doubles = new double[SLOTS][0];

    private CpuScratch() {
    }

    /** This thread's float buffer {@code slot}, at least {@code n} long. */
    static float[] floats(int slot, int n) {
        CpuScratch s = LOCAL.get();
        if (s.floats[slot].length < n) {
            s.floats[slot] = new float[n];
        }
        return s.floats[slot];
    }

    /** This thread's double buffer {@code slot}, at least {@code n} long. */
    static double[] doubles(int slot, int n) {
        CpuScratch s = LOCAL.get();
        if (s.doubles[slot].length < n) {
            s.doubles[slot] = new double[n];
        }
        return s.doubles[slot];
    }
}
