package dev.loraid.tensor.cpu;

import jdk.incubator.vector.FloatVector;

import static dev.loraid.tensor.cpu.Lanes.F;
import static dev.loraid.tensor.cpu.Lanes.VL;

/**
 * The register-tiled product the attention backward is built from (the forward runs on the GEMM's kernel, see
 * {@link FlashAttention}), on small fp32 tiles that sit in cache:
 * {@code C[i][j] (+)= Σ_k A(i, k)·B[k][j]} where A is read through two strides (so Aᵀ costs nothing) and B, C are
 * row-major. Each step keeps a {@link #ROWS}-row × 2-vector block of C in registers: 6 rows (12 accumulators,
 * 2 loads of B and 6 broadcasts of A per k: 15 registers) where there are only AVX2's 16, 12 rows (24
 * accumulators, 27 registers) where there are 32 (on AVX-512 the attention backward runs 12% faster than with
 * 6). The column block is the outer loop: its slice of B stays in L1 while the row blocks pass.
 *
 * <p>The k loop is unrolled by two steps by hand (one bounds check per A row serves both steps: 5% faster attention
 * on AVX2, 1-3% on AVX-512; same summation order, so the same bits). The A reads keep their bounds checks on
 * purpose: they hold each broadcast next to its FMAs. Without them (A indexed so that C2 can hoist the checks out
 * of the loop) C2 may schedule all the broadcasts of a step ahead of the FMAs, which needs more vector registers
 * than AVX2 has, and after a deoptimization it recompiled such a kernel with accumulators spilled to the stack at
 * half the speed (measured on AVX2 and AVX-512).
 */
final class TileMatmul {
    /** AVX2 (8 lanes) has 16 vector registers: 6 rows; AVX-512 and NEON have 32: 12 rows (27 registers). */
    static final int ROWS = VL == 8 ? 6 : 12;
    static final int COLS = 2 * VL;

    private TileMatmul() {
    }

    /** Rounds n up to a whole number of column blocks. */
    static int padCols(int n) {
        return (n + COLS - 1) / COLS * COLS;
    }

    /** Rounds n up to a whole number of row blocks. */
    static int padRows(int n) {
        return (n + ROWS - 1) / ROWS * ROWS;
    }

    /**
     * @param m rows of C, a multiple of {@link #ROWS}
     * @param n columns of C, a multiple of {@link #COLS}
     * @param k the summed dimension (any size ≥ 0)
     * @param ars A's step between rows (i), {@code acs} A's step along k
     * @param accumulate add to C (true) or overwrite it (false)
     */
    static void mul(float[] a, int aOff, int ars, int acs, float[] b, int bOff, int ldb,
                    float[] c, int cOff, int ldc, int m, int n, int k, boolean accumulate) {
        if (ROWS == 12) {
            mul12(a, aOff, ars, acs, b, bOff, ldb, c, cOff, ldc, m, n, k, accumulate);
        } else {
            mul6(a, aOff, ars, acs, b, bOff, ldb, c, cOff, ldc, m, n, k, accumulate);
        }
    }

    private static void mul6(float[] a, int aOff, int ars, int acs, float[] b, int bOff, int ldb,
                             float[] c, int cOff, int ldc, int m, int n, int k, boolean accumulate) {
        for (int j = 0; j < n; j += COLS) {
            for (int i = 0; i < m; i += 6) {
                int ci = cOff + i * ldc + j;
                FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
                if (accumulate) {
                    c00 = FloatVector.fromArray(F, c, ci);
                    c01 = FloatVector.fromArray(F, c, ci + VL);
                    c10 = FloatVector.fromArray(F, c, ci + ldc);
                    c11 = FloatVector.fromArray(F, c, ci + ldc + VL);
                    c20 = FloatVector.fromArray(F, c, ci + 2 * ldc);
                    c21 = FloatVector.fromArray(F, c, ci + 2 * ldc + VL);
                    c30 = FloatVector.fromArray(F, c, ci + 3 * ldc);
                    c31 = FloatVector.fromArray(F, c, ci + 3 * ldc + VL);
                    c40 = FloatVector.fromArray(F, c, ci + 4 * ldc);
                    c41 = FloatVector.fromArray(F, c, ci + 4 * ldc + VL);
                    c50 = FloatVector.fromArray(F, c, ci + 5 * ldc);
                    c51 = FloatVector.fromArray(F, c, ci + 5 * ldc + VL);
                } else {
                    c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = FloatVector.zero(F);
                }
                int a0 = aOff + i * ars;
                int bi = bOff + j;
                int kk = 0;
                for (; kk + 1 < k; kk += 2, a0 += 2 * acs, bi += 2 * ldb) {
                    FloatVector b0 = FloatVector.fromArray(F, b, bi);
                    FloatVector b1 = FloatVector.fromArray(F, b, bi + VL);
                    FloatVector x = FloatVector.broadcast(F, a[a0]);
                    c00 = b0.fma(x, c00);
                    c01 = b1.fma(x, c01);
                    x = FloatVector.broadcast(F, a[a0 + ars]);
                    c10 = b0.fma(x, c10);
                    c11 = b1.fma(x, c11);
                    x = FloatVector.broadcast(F, a[a0 + 2 * ars]);
                    c20 = b0.fma(x, c20);
                    c21 = b1.fma(x, c21);
                    x = FloatVector.broadcast(F, a[a0 + 3 * ars]);
                    c30 = b0.fma(x, c30);
                    c31 = b1.fma(x, c31);
                    x = FloatVector.broadcast(F, a[a0 + 4 * ars]);
                    c40 = b0.fma(x, c40);
                    c41 = b1.fma(x, c41);
                    x = FloatVector.broadcast(F, a[a0 + 5 * ars]);
                    c50 = b0.fma(x, c50);
                    c51 = b1.fma(x, c51);
                
                    b0 = FloatVector.fromArray(F, b, bi + ldb);
                    b1 = FloatVector.fromArray(F, b, bi + ldb + VL);
                    x = FloatVector.broadcast(F, a[a0 + acs]);
                    c00 = b0.fma(x, c00);
                    c01 = b1.fma(x, c01);
                    x = FloatVector.broadcast(F, a[a0 + acs + ars]);
                    c10 = b0.fma(x, c10);
                    c11 = b1.fma(x, c11);
                    x = FloatVector.broadcast(F, a[a0 + acs + 2 * ars]);
                    c20 = b0.fma(x, c20);
                    c21 = b1.fma(x, c21);
                    x = FloatVector.broadcast(F, a[a0 + acs + 3 * ars]);
                    c30 = b0.fma(x, c30);
                    c31 = b1.fma(x, c31);
                    x = FloatVector.broadcast(F, a[a0 + acs + 4 * ars]);
                    c40 = b0.fma(x, c40);
                    c41 = b1.fma(x, c41);
                    x = FloatVector.broadcast(F, a[a0 + acs + 5 * ars]);
                    c50 = b0.fma(x, c50);
                    c51 = b1.fma(x, c51);
                }
                for (; kk < k; kk++, a0 += acs, bi += ldb) {
                    FloatVector b0 = FloatVector.fromArray(F, b, bi);
                    FloatVector b1 = FloatVector.fromArray(F, b, bi + VL);
                    FloatVector x = FloatVector.broadcast(F, a[a0]);
                    c00 = b0.fma(x, c00);
                    c01 = b1.fma(x, c01);
                    x = FloatVector.broadcast(F, a[a0 + ars]);
                    c10 = b0.fma(x, c10);
                    c11 = b1.fma(x, c11);
                    x = FloatVector.broadcast(F, a[a0 + 2 * ars]);
                    c20 = b0.fma(x, c20);
                    c21 = b1.fma(x, c21);
                    x = FloatVector.broadcast(F, a[a0 + 3 * ars]);
                    c30 = b0.fma(x, c30);
                    c31 = b1.fma(x, c31);
                    x = FloatVector.broadcast(F, a[a0 + 4 * ars]);
                    c40 = b0.fma(x, c40);
                    c41 = b1.fma(x, c41);
                    x = FloatVector.broadcast(F, a[a0 + 5 * ars]);
                    c50 = b0.fma(x, c50);
                    c51 = b1.fma(x, c51);
                }
                c00.intoArray(c, ci);
                c01.intoArray(c, ci + VL);
                c10.intoArray(c, ci + ldc);
                c11.intoArray(c, ci + ldc + VL);
                c20.intoArray(c, ci + 2 * ldc);
                c21.intoArray(c, ci + 2 * ldc + VL);
                c30.intoArray(c, ci + 3 * ldc);
                c31.intoArray(c, ci + 3 * ldc + VL);
                c40.intoArray(c, ci + 4 * ldc);
                c41.intoArray(c, ci + 4 * ldc + VL);
                c50.intoArray(c, ci + 5 * ldc);
                c51.intoArray(c, ci + 5 * ldc + VL);
            }
        }
    }

    /** {@link #mul6} with twice the rows: each B load feeds 24 FMAs instead of 12. */
    private static void mul12(float[] a, int aOff, int ars, int acs, float[] b, int bOff, int ldb,
                              float[] c, int cOff, int ldc, int m, int n, int k, boolean accumulate) {
        for (int j = 0; j < n; j += COLS) {
            for (int i = 0; i < m; i += 12) {
                int ci = cOff + i * ldc + j;
                FloatVector c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71, c80, c81, c90, c91, c100, c101, c110, c111;
                if (accumulate) {
                    c00 = FloatVector.fromArray(F, c, ci + 0 * ldc);
                    c01 = FloatVector.fromArray(F, c, ci + 0 * ldc + VL);
                    c10 = FloatVector.fromArray(F, c, ci + 1 * ldc);
                    c11 = FloatVector.fromArray(F, c, ci + 1 * ldc + VL);
                    c20 = FloatVector.fromArray(F, c, ci + 2 * ldc);
                    c21 = FloatVector.fromArray(F, c, ci + 2 * ldc + VL);
                    c30 = FloatVector.fromArray(F, c, ci + 3 * ldc);
                    c31 = FloatVector.fromArray(F, c, ci + 3 * ldc + VL);
                    c40 = FloatVector.fromArray(F, c, ci + 4 * ldc);
                    c41 = FloatVector.fromArray(F, c, ci + 4 * ldc + VL);
                    c50 = FloatVector.fromArray(F, c, ci + 5 * ldc);
                    c51 = FloatVector.fromArray(F, c, ci + 5 * ldc + VL);
                    c60 = FloatVector.fromArray(F, c, ci + 6 * ldc);
                    c61 = FloatVector.fromArray(F, c, ci + 6 * ldc + VL);
                    c70 = FloatVector.fromArray(F, c, ci + 7 * ldc);
                    c71 = FloatVector.fromArray(F, c, ci + 7 * ldc + VL);
                    c80 = FloatVector.fromArray(F, c, ci + 8 * ldc);
                    c81 = FloatVector.fromArray(F, c, ci + 8 * ldc + VL);
                    c90 = FloatVector.fromArray(F, c, ci + 9 * ldc);
                    c91 = FloatVector.fromArray(F, c, ci + 9 * ldc + VL);
                    c100 = FloatVector.fromArray(F, c, ci + 10 * ldc);
                    c101 = FloatVector.fromArray(F, c, ci + 10 * ldc + VL);
                    c110 = FloatVector.fromArray(F, c, ci + 11 * ldc);
                    c111 = FloatVector.fromArray(F, c, ci + 11 * ldc + VL);
                } else {
                    c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = c80 = c81 = c90 = c91 = c100 = c101 = c110 = c111 = FloatVector.zero(F);
                }
                int a0 = aOff + i * ars;
                int bi = bOff + j;
                int kk = 0;
                for (; kk + 1 < k; kk += 2, a0 += 2 * acs, bi += 2 * ldb) {
                    FloatVector b0 = FloatVector.fromArray(F, b, bi);
                    FloatVector b1 = FloatVector.fromArray(F, b, bi + VL);
                    FloatVector x;
                    x = FloatVector.broadcast(F, a[a0 + 0 * ars]);
                    c00 = b0.fma(x, c00);
                    c01 = b1.fma(x, c01);
                    x = FloatVector.broadcast(F, a[a0 + 1 * ars]);
                    c10 = b0.fma(x, c10);
                    c11 = b1.fma(x, c11);
                    x = FloatVector.broadcast(F, a[a0 + 2 * ars]);
                    c20 = b0.fma(x, c20);
                    c21 = b1.fma(x, c21);
                    x = FloatVector.broadcast(F, a[a0 + 3 * ars]);
                    c30 = b0.fma(x, c30);
                    c31 = b1.fma(x, c31);
                    x = FloatVector.broadcast(F, a[a0 + 4 * ars]);
                    c40 = b0.fma(x, c40);
                    c41 = b1.fma(x, c41);
                    x = FloatVector.broadcast(F, a[a0 + 5 * ars]);
                    c50 = b0.fma(x, c50);
                    c51 = b1.fma(x, c51);
                    x = FloatVector.broadcast(F, a[a0 + 6 * ars]);
                    c60 = b0.fma(x, c60);
                    c61 = b1.fma(x, c61);
                    x = FloatVector.broadcast(F, a[a0 + 7 * ars]);
                    c70 = b0.fma(x, c70);
                    c71 = b1.fma(x, c71);
                    x = FloatVector.broadcast(F, a[a0 + 8 * ars]);
                    c80 = b0.fma(x, c80);
                    c81 = b1.fma(x, c81);
                    x = FloatVector.broadcast(F, a[a0 + 9 * ars]);
                    c90 = b0.fma(x, c90);
                    c91 = b1.fma(x, c91);
                    x = FloatVector.broadcast(F, a[a0 + 10 * ars]);
                    c100 = b0.fma(x, c100);
                    c101 = b1.fma(x, c101);
                    x = FloatVector.broadcast(F, a[a0 + 11 * ars]);
                    c110 = b0.fma(x, c110);
                    c111 = b1.fma(x, c111);
                
                    b0 = FloatVector.fromArray(F, b, bi + ldb);
                    b1 = FloatVector.fromArray(F, b, bi + ldb + VL);
                    x = FloatVector.broadcast(F, a[a0 + acs + 0 * ars]);
                    c00 = b0.fma(x, c00);
                    c01 = b1.fma(x, c01);
                    x = FloatVector.broadcast(F, a[a0 + acs + 1 * ars]);
                    c10 = b0.fma(x, c10);
                    c11 = b1.fma(x, c11);
                    x = FloatVector.broadcast(F, a[a0 + acs + 2 * ars]);
                    c20 = b0.fma(x, c20);
                    c21 = b1.fma(x, c21);
                    x = FloatVector.broadcast(F, a[a0 + acs + 3 * ars]);
                    c30 = b0.fma(x, c30);
                    c31 = b1.fma(x, c31);
                    x = FloatVector.broadcast(F, a[a0 + acs + 4 * ars]);
                    c40 = b0.fma(x, c40);
                    c41 = b1.fma(x, c41);
                    x = FloatVector.broadcast(F, a[a0 + acs + 5 * ars]);
                    c50 = b0.fma(x, c50);
                    c51 = b1.fma(x, c51);
                    x = FloatVector.broadcast(F, a[a0 + acs + 6 * ars]);
                    c60 = b0.fma(x, c60);
                    c61 = b1.fma(x, c61);
                    x = FloatVector.broadcast(F, a[a0 + acs + 7 * ars]);
                    c70 = b0.fma(x, c70);
                    c71 = b1.fma(x, c71);
                    x = FloatVector.broadcast(F, a[a0 + acs + 8 * ars]);
                    c80 = b0.fma(x, c80);
                    c81 = b1.fma(x, c81);
                    x = FloatVector.broadcast(F, a[a0 + acs + 9 * ars]);
                    c90 = b0.fma(x, c90);
                    c91 = b1.fma(x, c91);
                    x = FloatVector.broadcast(F, a[a0 + acs + 10 * ars]);
                    c100 = b0.fma(x, c100);
                    c101 = b1.fma(x, c101);
                    x = FloatVector.broadcast(F, a[a0 + acs + 11 * ars]);
                    c110 = b0.fma(x, c110);
                    c111 = b1.fma(x, c111);
                }
                for (; kk < k; kk++, a0 += acs, bi += ldb) {
                    FloatVector b0 = FloatVector.fromArray(F, b, bi);
                    FloatVector b1 = FloatVector.fromArray(F, b, bi + VL);
                    FloatVector x;
                    x = FloatVector.broadcast(F, a[a0 + 0 * ars]);
                    c00 = b0.fma(x, c00);
                    c01 = b1.fma(x, c01);
                    x = FloatVector.broadcast(F, a[a0 + 1 * ars]);
                    c10 = b0.fma(x, c10);
                    c11 = b1.fma(x, c11);
                    x = FloatVector.broadcast(F, a[a0 + 2 * ars]);
                    c20 = b0.fma(x, c20);
                    c21 = b1.fma(x, c21);
                    x = FloatVector.broadcast(F, a[a0 + 3 * ars]);
                    c30 = b0.fma(x, c30);
                    c31 = b1.fma(x, c31);
                    x = FloatVector.broadcast(F, a[a0 + 4 * ars]);
                    c40 = b0.fma(x, c40);
                    c41 = b1.fma(x, c41);
                    x = FloatVector.broadcast(F, a[a0 + 5 * ars]);
                    c50 = b0.fma(x, c50);
                    c51 = b1.fma(x, c51);
                    x = FloatVector.broadcast(F, a[a0 + 6 * ars]);
                    c60 = b0.fma(x, c60);
                    c61 = b1.fma(x, c61);
                    x = FloatVector.broadcast(F, a[a0 + 7 * ars]);
                    c70 = b0.fma(x, c70);
                    c71 = b1.fma(x, c71);
                    x = FloatVector.broadcast(F, a[a0 + 8 * ars]);
                    c80 = b0.fma(x, c80);
                    c81 = b1.fma(x, c81);
                    x = FloatVector.broadcast(F, a[a0 + 9 * ars]);
                    c90 = b0.fma(x, c90);
                    c91 = b1.fma(x, c91);
                    x = FloatVector.broadcast(F, a[a0 + 10 * ars]);
                    c100 = b0.fma(x, c100);
                    c101 = b1.fma(x, c101);
                    x = FloatVector.broadcast(F, a[a0 + 11 * ars]);
                    c110 = b0.fma(x, c110);
                    c111 = b1.fma(x, c111);
                }
                c00.intoArray(c, ci + 0 * ldc);
                c01.intoArray(c, ci + 0 * ldc + VL);
                c10.intoArray(c, ci + 1 * ldc);
                c11.intoArray(c, ci + 1 * ldc + VL);
                c20.intoArray(c, ci + 2 * ldc);
                c21.intoArray(c, ci + 2 * ldc + VL);
                c30.intoArray(c, ci + 3 * ldc);
                c31.intoArray(c, ci + 3 * ldc + VL);
                c40.intoArray(c, ci + 4 * ldc);
                c41.intoArray(c, ci + 4 * ldc + VL);
                c50.intoArray(c, ci + 5 * ldc);
                c51.intoArray(c, ci + 5 * ldc + VL);
                c60.intoArray(c, ci + 6 * ldc);
                c61.intoArray(c, ci + 6 * ldc + VL);
                c70.intoArray(c, ci + 7 * ldc);
                c71.intoArray(c, ci + 7 * ldc + VL);
                c80.intoArray(c, ci + 8 * ldc);
                c81.intoArray(c, ci + 8 * ldc + VL);
                c90.intoArray(c, ci + 9 * ldc);
                c91.intoArray(c, ci + 9 * ldc + VL);
                c100.intoArray(c, ci + 10 * ldc);
                c101.intoArray(c, ci + 10 * ldc + VL);
                c110.intoArray(c, ci + 11 * ldc);
                c111.intoArray(c, ci + 11 * ldc + VL);
            }
        }
    }
}
