package dev.loraid.tensor.cpu.gemm;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-tiled inner kernel: one MR x NR tile (MR = 6 or 4 rows x 2 vectors) of {@code A_strip · B_panel}
 * over {@code kc} steps of K, with the accumulators as plain locals so that C2 keeps them in vector registers for
 * the whole loop (an array of vectors would be spilled to memory on every step). Each step loads two B vectors,
 * broadcasts MR A values and issues 2·MR FMAs. The width comes from {@link GemmTiling#SPECIES}, so the same body
 * runs as 6x32 (AVX-512), 6x8 (NEON) or 4x16 (AVX2).
 *
 * <p>Why 4 rows on AVX2: C2's scheduler is free to hoist every broadcast of a step ahead of its FMAs, and then a
 * step needs MR broadcasts + 2 B vectors + 2·MR accumulators live at once. With AVX2's 16 registers that fits
 * only MR = 4 (14 registers); at 6 and at 5 rows C2 spills an accumulator to the stack — a load, an FMA and a store
 * on every k whose store-to-load latency halves the rate — and whether it does depends on its scheduling, which
 * changed with the garbage collector (measured on Zen 5 under {@code -XX:UseAVX=2}, one thread: 6x16 58 GFLOP/s;
 * 5x16 117 with G1 but 51 with ParallelGC; 4x16 103-111 with either, against a 2-pipe 8-lane peak of about 130). The
 * fifth and sixth rows' code below is dead when {@link #SIX_ROWS} is false, so C2 drops it with its accumulators.
 *
 * <p>Packed layouts: the A strip holds kc runs of MR floats (row r's value at k at {@code aOff + k*MR + r}), the B
 * panel kc rows of NR floats (row k at {@code bOff + k*NR}): a step's loads are then one index plus constant
 * offsets. With A's rows stored kc apart instead, C2 computed each row's address on every step, and those integer
 * operations left the core's 6-wide dispatch too little room beside the 8 FMAs of a step (Zen 3, one thread,
 * L1-resident panels: 0.81 -> 0.96 of the FMA probe at best; see bench/RESULTS.md).
 */
public final class MicroKernel {
    private static final VectorSpecies<Float> S = GemmTiling.SPECIES;
    private static final int L = GemmTiling.LANES;
    private static final int NR = GemmTiling.NR;
    private static final int MR = GemmTiling.MR;
    private static final boolean SIX_ROWS = GemmTiling.MR == 6;

    private MicroKernel() {
    }

    /**
     * {@code c[cOff + r·ldc + j] (+)= Σ_k a[aOff + k·MR + r] · b[bOff + k·NR + j]} for r < MR, j < NR: the MR x NR
     * product of a packed A strip and a packed B panel, written over C or, with {@code accumulate}, added to it.
     * Both steps are constants on purpose: with A's step a parameter, C2 could no longer prove A's indices in
     * bounds ahead of the loop and checked them on every step (GEMM 8% slower on a Zen 3).
     */
    public static void multiply(int kc, float[] a, int aOff, float[] b, int bOff,
                                float[] c, int cOff, int ldc, boolean accumulate) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31;
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        if (accumulate) {
            c00 = FloatVector.fromArray(S, c, cOff);
            c01 = FloatVector.fromArray(S, c, cOff + L);
            c10 = FloatVector.fromArray(S, c, cOff + ldc);
            c11 = FloatVector.fromArray(S, c, cOff + ldc + L);
            c20 = FloatVector.fromArray(S, c, cOff + 2 * ldc);
            c21 = FloatVector.fromArray(S, c, cOff + 2 * ldc + L);
            c30 = FloatVector.fromArray(S, c, cOff + 3 * ldc);
            c31 = FloatVector.fromArray(S, c, cOff + 3 * ldc + L);
            if (SIX_ROWS) {
                c40 = FloatVector.fromArray(S, c, cOff + 4 * ldc);
                c41 = FloatVector.fromArray(S, c, cOff + 4 * ldc + L);
                c50 = FloatVector.fromArray(S, c, cOff + 5 * ldc);
                c51 = FloatVector.fromArray(S, c, cOff + 5 * ldc + L);
            }
        } else {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = FloatVector.zero(S);
        }
        for (int k = 0, ai = aOff, bi = bOff; k < kc; k++, ai += MR, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector x = FloatVector.broadcast(S, a[ai]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ai + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ai + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ai + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            if (SIX_ROWS) {
                x = FloatVector.broadcast(S, a[ai + 4]);
                c40 = x.fma(b0, c40);
                c41 = x.fma(b1, c41);
                x = FloatVector.broadcast(S, a[ai + 5]);
                c50 = x.fma(b0, c50);
                c51 = x.fma(b1, c51);
            }
        }
        c00.intoArray(c, cOff);
        c01.intoArray(c, cOff + L);
        c10.intoArray(c, cOff + ldc);
        c11.intoArray(c, cOff + ldc + L);
        c20.intoArray(c, cOff + 2 * ldc);
        c21.intoArray(c, cOff + 2 * ldc + L);
        c30.intoArray(c, cOff + 3 * ldc);
        c31.intoArray(c, cOff + 3 * ldc + L);
        if (SIX_ROWS) {
            c40.intoArray(c, cOff + 4 * ldc);
            c41.intoArray(c, cOff + 4 * ldc + L);
            c50.intoArray(c, cOff + 5 * ldc);
            c51.intoArray(c, cOff + 5 * ldc + L);
        }
    }
}
