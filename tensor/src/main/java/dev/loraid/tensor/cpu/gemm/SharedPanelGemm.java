package dev.loraid.tensor.cpu.gemm;

import dev.loraid.tensor.cpu.Parallel;

import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * The multi-threaded fp32 GEMM for one large product (fewer batches than threads, at least MC rows): the
 * threads walk the BLIS iterations (batch, NC-wide column block, KC-deep slice of K) together. In each
 * iteration they pack B's KC x NC block once into a shared buffer, claiming it an NR-wide panel at a time (or as
 * many as the source asks for), then claim the row blocks of C: a thread packs its block's rows of A (no other thread
 * needs them) and runs the micro-kernel against the shared B block. Giving each thread its own column range instead
 * packs all of A once per range and each thread streams its own B block through the shared L3.
 *
 * <p>There is no barrier: every wait is on work that another thread has already claimed, so a thread that
 * never shows up (a busy pool) only means that the others do its share. Row block u of iteration t starts
 * after row block u of iteration t-1 is done (C accumulates the K slices in order, so every element is
 * summed in the same order whatever the scheduling), and packing into one of the two alternating B buffers
 * starts after the iteration that last read it is done.
 */
final class SharedPanelGemm {
    private static final int MR = GemmTiling.MR;
    private static final int NR = GemmTiling.NR;
    private static final int KC = GemmTiling.KC;
    private static final int MC = GemmTiling.MC;
    private static final int NC = GemmTiling.SHARED_NC;
    private static final int SPINS_BEFORE_YIELD = 1 << 10;

    /** The two shared B buffers, owned by the thread that calls {@link #run}. */
    private static final ThreadLocal<float[][]> SHARED_B =
        ThreadLocal.withInitial(() -> new float[][] {new float[KC * NC], new float[KC * NC]});

    private final BlockedGemm.Problem p;
    private final int m;
    private final int n;
    private final int k;
    private final int slices;
    private final int columnBlocks;
    private final int iterations;
    private final int rowsPerBlock;
    private final int rowBlocks;
    private final float[][] packedB;
    /** Per iteration t: [3t] next B panel to claim, [3t+1] panels packed, [3t+2] next row block to claim. */
    private final AtomicIntegerArray claims;
    /** Per row block: the number of iterations done. */
    private final AtomicIntegerArray done;
    private volatile boolean failed;

    private SharedPanelGemm(BlockedGemm.Problem p, int threads, float[][] packedB) {
        this.p = p;
        this.m = p.a().rows();
        this.n = p.b().cols();
        this.k = p.a().cols();
        // K == 0 still runs one (empty) slice, so that C = beta·C + bias is applied
        this.slices = Math.max(1, BlockedGemm.ceilDiv(k, KC));
        this.columnBlocks = BlockedGemm.ceilDiv(n, NC);
        this.iterations = Math.multiplyExact(p.cOffsets().length, Math.multiplyExact(columnBlocks, slices));
        // equal row blocks of at most MC rows, a multiple of the thread count of them
        int blocks = GemmTiling.roundUp(BlockedGemm.ceilDiv(m, MC), threads);
        this.rowsPerBlock = GemmTiling.roundUp(BlockedGemm.ceilDiv(m, blocks), MR);
        this.rowBlocks = BlockedGemm.ceilDiv(m, rowsPerBlock);
        this.packedB = packedB;
        this.claims = new AtomicIntegerArray(Math.multiplyExact(3, iterations));
        this.done = new AtomicIntegerArray(rowBlocks);
    }

    /** Whether this driver suits a problem of {@code m} rows in {@code batches} batches. */
    static boolean suits(int m, int batches, int threads) {
        return threads > 1 && batches < threads && m >= MC;
    }

    static void run(BlockedGemm.Problem p, int threads) {
        SharedPanelGemm gemm = new SharedPanelGemm(p, threads, SHARED_B.get());
        Parallel.forEach(threads, w -> gemm.participate());
    }

    private void participate() {
        try {
            work(BlockedGemm.buffers());
        } catch (Throwable t) {
            failed = true;
            throw t;
        }
    }

    private void work(BlockedGemm.Buffers buf) {
        for (int t = 0; t < iterations; t++) {
            int batch = t / (columnBlocks * slices);
            int jc = t / slices % columnBlocks * NC;
            int pc = t % slices * KC;
            int nc = Math.min(NC, n - jc);
            int kc = Math.min(KC, k - pc);
            int panels = BlockedGemm.ceilDiv(nc, NR);
            float[] block = packedB[t & 1];
            if (claims.get(3 * t) < panels) {
                // the buffer was last read in iteration t-2
                for (int u = 0; u < rowBlocks; u++) {
                    if (!await(done, u, t - 1)) {
                        return;
                    }
                }
                PanelSource b = p.b().at(p.bOffsets()[batch]);
                int perClaim = b.panelsPerClaim();
                for (int q; (q = claims.getAndAdd(3 * t, perClaim)) < panels; ) {
                    int count = Math.min(perClaim, panels - q);
                    b.packPanels(pc, kc, jc + q * NR, Math.min(count * NR, nc - q * NR), block, q * kc * NR, buf.columns);
                    claims.addAndGet(3 * t + 1, count);
                }
            }
            if (!await(claims, 3 * t + 1, panels)) {
                return;
            }
            StridedMatrix a = p.a().at(p.aOffsets()[batch]);
            StridedMatrix c = p.c().at(p.cOffsets()[batch]);
            for (int u; (u = claims.getAndIncrement(3 * t + 2)) < rowBlocks; ) {
                if (!await(done, u, t)) {
                    return;
                }
                int ic = u * rowsPerBlock;
                BlockedGemm.multiplyBlock(a, c, ic, Math.min(rowsPerBlock, m - ic), pc, kc, block, jc, nc, p, buf);
                done.set(u, t + 1);
            }
        }
    }

    /**
     * Waits until {@code counters[i] >= target}, which another thread's claimed work will bring about; false
     * when another thread failed instead (its exception reaches the caller through {@link Parallel#forEach}).
     */
    private boolean await(AtomicIntegerArray counters, int i, int target) {
        for (int spins = 0; counters.get(i) < target; spins++) {
            if (failed) {
                return false;
            }
            if (spins < SPINS_BEFORE_YIELD) {
                Thread.onSpinWait();
            } else {
                Thread.yield();
            }
        }
        return true;
    }
}
