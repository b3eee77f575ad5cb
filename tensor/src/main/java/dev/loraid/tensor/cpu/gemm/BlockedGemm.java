package dev.loraid.tensor.cpu.gemm;

import dev.loraid.tensor.cpu.Parallel;

/**
 * The fp32 GEMM driver: one large product on several threads goes to {@link SharedPanelGemm} (the threads share
 * each packed B block); otherwise C is split into tasks (batch x column chunk x row chunk) spread over
 * {@link Parallel}, each running the BLIS loop nest of {@link GemmTiling} with per-thread packing buffers.
 */
final class BlockedGemm {
    private static final int MR = GemmTiling.MR;
    private static final int NR = GemmTiling.NR;
    private static final int KC = GemmTiling.KC;
    private static final int MC = GemmTiling.MC;
    private static final int NC = GemmTiling.NC;
    private static final int GROUP = GemmTiling.PANEL_GROUP;
    private static final int TASKS_PER_THREAD = 3;
    private static final int MIN_CHUNK_COLS = 256;

    /** Per-thread packing buffers, allocated once per thread at the maximal block sizes. */
    private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

    static final class Buffers {
        final float[] a = new float[MC * KC];
        final float[] b = new float[KC * NC];
        final float[] tile = new float[MR * NR];
        final float[] columns = new float[NR * KC];
        final float[] aColumns = new float[MC * KC];
    }

    /**
     * One GEMM problem over {@code offsets.length} batches: batch i multiplies {@code a.at(aOffsets[i])} by
     * {@code b.at(bOffsets[i])} into {@code c.at(cOffsets[i])}; c is F32 with column stride 1 (or one column).
     * The bias is indexed by column of c, or by row when {@code biasPerRow} (c is then a transposed output).
     */
    record Problem(StridedMatrix a, PanelSource b, StridedMatrix c, long[] aOffsets, long[] bOffsets,
                   long[] cOffsets, float alpha, float beta, float[] bias, boolean biasPerRow) {
    }

    private BlockedGemm() {
    }

    static void run(Problem p) {
        int m = p.a().rows();
        int n = p.b().cols();
        int batches = p.cOffsets().length;
        if (m == 0 || n == 0 || batches == 0) {
            return;
        }
        int threads = Parallel.threads();
        if (SharedPanelGemm.suits(m, batches, threads)) {
            SharedPanelGemm.run(p, threads);
            return;
        }
        int nPanels = ceilDiv(n, NR);
        int mStrips = ceilDiv(m, MR);
        // A few tasks per thread, so that a thread slowed by another process hands work to the others; column
        // chunks first (down to MIN_CHUNK_COLS wide, since each chunk packs its A rows again), then row chunks
        // (each packs its B columns again).
        int target = threads == 1 ? 1 : TASKS_PER_THREAD * threads;
        int nChunks0 = ceilDiv(n, NC);
        if ((long) batches * nChunks0 < target) {
            nChunks0 = Math.max(nChunks0, Math.min(ceilDiv(target, batches), n / MIN_CHUNK_COLS));
        }
        if ((long) batches * nChunks0 < threads) {
            nChunks0 = Math.min(nPanels, ceilDiv(threads, batches));
        }
        int nChunks = nChunks0;
        int mChunks = (long) batches * nChunks < target ? Math.min(mStrips, ceilDiv(target, batches * nChunks)) : 1;
        int perBatch = nChunks * mChunks;
        Parallel.forEach(Math.multiplyExact(batches, perBatch), t -> {
            int batch = t / perBatch;
            int nChunk = t % perBatch / mChunks;
            int mChunk = t % mChunks;
            int j0 = (int) ((long) nPanels * nChunk / nChunks) * NR;
            int j1 = Math.min(n, (int) ((long) nPanels * (nChunk + 1) / nChunks) * NR);
            int i0 = (int) ((long) mStrips * mChunk / mChunks) * MR;
            int i1 = Math.min(m, (int) ((long) mStrips * (mChunk + 1) / mChunks) * MR);
            runBlock(p.a().at(p.aOffsets()[batch]), p.b().at(p.bOffsets()[batch]), p.c().at(p.cOffsets()[batch]),
                i0, i1, j0, j1, p, BUFFERS.get());
        });
    }

    /** C[i0..i1, j0..j1] of one batch, over all of K. */
    private static void runBlock(StridedMatrix a, PanelSource b, StridedMatrix c, int i0, int i1, int j0, int j1,
                                 Problem p, Buffers buf) {
        int k = a.cols();
        // equal row blocks of at most MC rows (1560 rows: 4 x 390, not 3 x 516 + 12)
        int mcStep = GemmTiling.roundUp(ceilDiv(i1 - i0, ceilDiv(Math.max(1, i1 - i0), MC)), MR);
        for (int jc = j0; jc < j1; jc += NC) {
            int nc = Math.min(NC, j1 - jc);
            // K == 0 still runs one (empty) slice, so that C = beta·C + bias is applied
            for (int pc = 0; pc < k || pc == 0; pc += KC) {
                int kc = Math.min(KC, k - pc);
                Packing.packB(b, pc, kc, jc, nc, buf.b, buf.columns);
                for (int ic = i0; ic < i1; ic += mcStep) {
                    multiplyBlock(a, c, ic, Math.min(mcStep, i1 - ic), pc, kc, buf.b, jc, nc, p, buf);
                }
            }
        }
    }

    /**
     * Adds A[ic..ic+mc, pc..pc+kc] times the packed B block (columns jc..jc+nc) to C, or for the first K slice
     * (pc == 0) merges it with the problem's beta and bias: packs those rows of A, then runs every tile, a group
     * of {@link GemmTiling#PANEL_GROUP} B panels at a time.
     */
    static void multiplyBlock(StridedMatrix a, StridedMatrix c, int ic, int mc, int pc, int kc, float[] packedB,
                              int jc, int nc, Problem p, Buffers buf) {
        boolean first = pc == 0;
        Packing.packA(a, ic, mc, pc, kc, buf.a, buf.aColumns);
        // a group of B panels against each strip of A in turn: C is then written GROUP tiles along a row at a time
        // (runs the hardware prefetcher follows) rather than one tile per row down the block (a line per row and
        // a TLB entry per page of rows: 20% of a Zen 3 core's time went to C's writes that way)
        for (int jg = 0; jg < nc; jg += GROUP * NR) {
            int jEnd = Math.min(nc, jg + GROUP * NR);
            for (int ir = 0; ir < mc; ir += MR) {
                for (int jr = jg; jr < jEnd; jr += NR) {
                    MicroKernel.multiply(kc, buf.a, ir * kc, packedB, jr * kc, buf.tile, 0, NR, false);
                    TileWriter.write(buf.tile, Math.min(MR, mc - ir), Math.min(NR, nc - jr), c, ic + ir, jc + jr,
                        p.alpha(), first ? p.beta() : 1f, first ? p.bias() : null, p.biasPerRow());
                }
            }
        }
    }

    /** This thread's packing buffers. */
    static Buffers buffers() {
        return BUFFERS.get();
    }

    static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }
}
