package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.cpu.gemm.GemmTiling;
import dev.loraid.tensor.cpu.gemm.MicroKernel;
import jdk.incubator.vector.FloatVector;

import java.util.Arrays;

import static dev.loraid.tensor.cpu.Lanes.F;
import static dev.loraid.tensor.cpu.Lanes.VL;

/**
 * Flash attention backward in fp32 (FlashAttention-2, Dao 2023, Algorithm 2): per head, workers take key blocks
 * of {@link #BC} keys and own their dK, dV; for each query tile they recompute
 * P = exp(scale·Q·Kᵀ − lse), then dV += Pᵀ·dO, dP = dO·Vᵀ, dS = P∘(dP − Δ) with Δ = rowsum(dO∘O),
 * dK += dSᵀ·(scale·Q), and dQ += dS·K into a per-worker accumulator (summed and scaled at the end), so no two
 * threads write the same memory and nothing of size [Lq, Lk] is ever held.
 *
 * <p>All five products run on the GEMM's register kernel ({@link MicroKernel}), with every operand packed once per
 * head in the layout the kernel reads (A in strips of MR rows, B in panels of NR columns; see {@link Head}). S and
 * dP are computed in panels of NR keys, which is the B panel that dVᵀ += dOᵀ·P and dKᵀ += Qᵀ·dS read; dQ += dS·K
 * needs dS with the keys along k, so the elementwise pass also writes dS into strips of MR queries.
 */
final class CpuFlashAttentionBackward {
    private static final int MR = GemmTiling.MR;
    private static final int NR = GemmTiling.NR;
    /** Queries per tile: whole strips of MR. */
    private static final int BR = MR * Math.max(1, 96 / MR);
    /** Keys per block: whole panels of NR. */
    private static final int BC = NR * Math.max(1, 96 / NR);

    private CpuFlashAttentionBackward() {
    }

    /**
     * One head's operands in fp32, each packed once: the scaled queries and dO in strips of MR queries
     * ([strip][D][MR], the A of S and dP); K and V in panels of NR keys ([panel][D][NR], their B); dO and the
     * unscaled queries per query tile in strips of MR features ([tile][strip][BR][MR], the A of dVᵀ and dKᵀ); K per
     * key block in panels of NR features ([block][panel][BC][NR], the B of dQ). Rows padded to whole tiles.
     */
    private record Head(float[] qStrips, float[] dOStrips, float[] kPanels, float[] vPanels, float[] dOFeatures,
                        float[] qFeatures, float[] kFeatures, float[] delta, float[] lse, int dqWidth, int tiles,
                        int keys) {
    }

    static void backward(CpuAttention.Dims dims, Tensor q, Tensor k, Tensor v, Tensor out, Tensor dOut, Tensor lse,
                         float scale, int[] kvLengths, Tensor dq, Tensor dk, Tensor dv) {
        int blocks = (dims.lk() + BC - 1) / BC;
        FlashAttention.forEachHead(dims, blocks, (b, h, parallel) -> {
            int keys = dims.keys(kvLengths, b);
            if (keys == 0) {
                zeroRows(dq, b, h, 0, dims.lq());
                zeroRows(dk, b, h, 0, dims.lk());
                zeroRows(dv, b, h, 0, dims.lk());
            } else {
                head(dims, q, k, v, out, dOut, lse, scale, keys, dq, dk, dv, b, h, parallel);
            }
        });
    }

    private static void head(CpuAttention.Dims dims, Tensor q, Tensor k, Tensor v, Tensor out, Tensor dOut, Tensor lse,
                             float scale, int keys, Tensor dq, Tensor dk, Tensor dv, int b, int h, boolean parallel) {
        Head hd = pack(dims, q, k, v, out, dOut, lse, scale, b, h, keys, parallel);
        int blocks = (keys + BC - 1) / BC;
        int dStrips = (dims.d() + MR - 1) / MR;
        int dvStrips = (dims.dv() + MR - 1) / MR;
        float[][] dqAcc = new float[parallel ? Math.min(Parallel.threads(), blocks) : 1][];
        // key blocks are dealt to workers round-robin, not first-come: each worker's dQ partial then covers the
        // same blocks in every run, and the partials are added in worker order — bit-reproducible results
        Parallel.forEach(dqAcc.length, w -> {
            float[] dqw = new float[hd.tiles() * BR * hd.dqWidth()];
            dqAcc[w] = dqw;
            Block blk = new Block(new float[BC * BR], new float[BC * BR], new float[BR * BC],
                new float[dStrips * MR * BC], new float[dvStrips * MR * BC]);
            for (int kb = w; kb < blocks; kb += dqAcc.length) {
                keyBlock(dims, hd, kb, blk, dqw);
                int j0 = kb * BC;
                int nb = Math.min(BC, keys - j0);
                storeRows(blk.dkT(), 1, BC, dk, b, h, j0, nb, scale);
                storeRows(blk.dvT(), 1, BC, dv, b, h, j0, nb, 1f);
            }
        });
        float[] total = dqAcc[0];
        for (int w = 1; w < dqAcc.length; w++) {
            for (int i = 0; i < total.length; i += VL) {
                FloatVector.fromArray(F, total, i).add(FloatVector.fromArray(F, dqAcc[w], i)).intoArray(total, i);
            }
        }
        storeRows(total, hd.dqWidth(), 1, dq, b, h, 0, dims.lq(), scale);
        zeroRows(dk, b, h, keys, dims.lk() - keys);
        zeroRows(dv, b, h, keys, dims.lk() - keys);
    }

    /**
     * One worker's buffers for a key block: S then P and dP then dS, both in panels of NR keys ([BC / NR][BR][NR]),
     * dS again in strips of MR queries ([BR / MR][BC][MR]), and the block's dKᵀ, dVᵀ ([features][BC]).
     */
    private record Block(float[] s, float[] ds, float[] dsStrips, float[] dkT, float[] dvT) {
    }

    /** All query tiles against key block {@code kb}: fills dKᵀ, dVᵀ of the block and adds into dq. */
    private static void keyBlock(CpuAttention.Dims dims, Head hd, int kb, Block blk, float[] dqAcc) {
        int d = dims.d();
        int dvn = dims.dv();
        int dStrips = (d + MR - 1) / MR;
        int dvStrips = (dvn + MR - 1) / MR;
        int dqPanels = hd.dqWidth() / NR;
        int j0 = kb * BC;
        int nb = Math.min(BC, hd.keys() - j0);
        // a short last key block or query tile is computed only to the next whole panel or strip
        int keyPanels = (nb + NR - 1) / NR;
        float[] s = blk.s();
        float[] ds = blk.ds();
        Arrays.fill(blk.dkT(), 0f);
        Arrays.fill(blk.dvT(), 0f);
        for (int t = 0; t < hd.tiles(); t++) {
            int i0 = t * BR;
            int rows = Math.min(BR, dims.lq() - i0);
            int queryStrips = (rows + MR - 1) / MR;
            for (int kp = 0; kp < keyPanels; kp++) {
                int kOff = (j0 + kp * NR) * d;
                int vOff = (j0 + kp * NR) * dvn;
                for (int qs = 0; qs < queryStrips; qs++) {
                    int c = (kp * BR + qs * MR) * NR;
                    // S = (scale·Q)·Kᵀ and dP = dO·Vᵀ
                    MicroKernel.multiply(d, hd.qStrips(), (i0 + qs * MR) * d, hd.kPanels(), kOff, s, c, NR, false);
                    MicroKernel.multiply(dvn, hd.dOStrips(), (i0 + qs * MR) * dvn, hd.vPanels(), vOff, ds, c, NR, false);
                }
            }
            gradientOfScores(hd, i0, queryStrips * MR, keyPanels, s, ds, blk.dsStrips());
            for (int kp = 0; kp < keyPanels; kp++) {
                int panel = kp * BR * NR;
                // dVᵀ += dOᵀ·P and dKᵀ += Qᵀ·dS over the tile's valid queries
                for (int fs = 0; fs < dvStrips; fs++) {
                    MicroKernel.multiply(rows, hd.dOFeatures(), (t * dvStrips + fs) * BR * MR, s, panel,
                        blk.dvT(), fs * MR * BC + kp * NR, BC, true);
                }
                for (int fs = 0; fs < dStrips; fs++) {
                    MicroKernel.multiply(rows, hd.qFeatures(), (t * dStrips + fs) * BR * MR, ds, panel,
                        blk.dkT(), fs * MR * BC + kp * NR, BC, true);
                }
            }
            // dQ += dS·K over the block's valid keys
            for (int fp = 0; fp < dqPanels; fp++) {
                int kOff = (kb * dqPanels + fp) * BC * NR;
                for (int qs = 0; qs < queryStrips; qs++) {
                    MicroKernel.multiply(nb, blk.dsStrips(), qs * BC * MR, hd.kFeatures(), kOff,
                        dqAcc, (i0 + qs * MR) * hd.dqWidth() + fp * NR, hd.dqWidth(), true);
                }
            }
        }
    }

    /**
     * P = exp(S − lse) over S, dS = P∘(dP − Δ) over dP, for the first {@code rows} queries of the tile at
     * {@code i0} and the first {@code keyPanels} key panels; dS also into strips of MR queries (keys along k).
     * Padded query rows have lse = +∞: their P and dS are 0.
     */
    private static void gradientOfScores(Head hd, int i0, int rows, int keyPanels, float[] s, float[] ds,
                                         float[] dsStrips) {
        for (int kp = 0; kp < keyPanels; kp++) {
            for (int r = 0; r < rows; r++) {
                float lseR = hd.lse()[i0 + r];
                float deltaR = hd.delta()[i0 + r];
                int at = (kp * BR + r) * NR;
                for (int j = 0; j < NR; j += VL) {
                    FloatVector p = VecMath.exp(FloatVector.fromArray(F, s, at + j).sub(lseR));
                    p.intoArray(s, at + j);
                    p.mul(FloatVector.fromArray(F, ds, at + j).sub(deltaR)).intoArray(ds, at + j);
                }
                int strip = (r / MR) * BC * MR + kp * NR * MR + r % MR;
                for (int j = 0; j < NR; j++) {
                    dsStrips[strip + j * MR] = ds[at + j];
                }
            }
        }
    }

    private static Head pack(CpuAttention.Dims dims, Tensor q, Tensor k, Tensor v, Tensor out, Tensor dOut, Tensor lse,
                             float scale, int b, int h, int keys, boolean parallel) {
        int lq = dims.lq();
        int tiles = (lq + BR - 1) / BR;
        float[] delta = new float[tiles * BR];
        float[] lseRows = new float[tiles * BR];
        Arrays.fill(lseRows, Float.POSITIVE_INFINITY); // padded rows: P = exp(s − ∞) = 0
        int dvPad = (dims.dv() + VL - 1) / VL * VL;
        int chunks = parallel ? Math.min(Parallel.threads() * 4, tiles) : 1;
        Parallel.forEach(chunks, c -> {
            float[] o = new float[dvPad];
            float[] g = new float[dvPad];
            for (int r = lq * c / chunks, end = lq * (c + 1) / chunks; r < end; r++) {
                HeadPack.row(out, b, h, r, o);
                HeadPack.row(dOut, b, h, r, g);
                FloatVector acc = FloatVector.zero(F);
                for (int i = 0; i < dvPad; i += VL) {
                    acc = FloatVector.fromArray(F, g, i).fma(FloatVector.fromArray(F, o, i), acc);
                }
                delta[r] = VecMath.sumLanes(acc); // Δ = rowsum(dO ∘ O)
                lseRows[r] = (float) lse.getDouble(b, h, r);
            }
        });
        return new Head(HeadPack.transposedPanels(q, b, h, lq, MR, scale, parallel),
            HeadPack.transposedPanels(dOut, b, h, lq, MR, 1f, parallel),
            HeadPack.transposedPanels(k, b, h, keys, NR, 1f, parallel),
            HeadPack.transposedPanels(v, b, h, keys, NR, 1f, parallel),
            HeadPack.columnPanels(dOut, b, h, lq, BR, MR, parallel),
            HeadPack.columnPanels(q, b, h, lq, BR, MR, parallel),
            HeadPack.columnPanels(k, b, h, keys, BC, NR, parallel),
            delta, lseRows, (dims.d() + NR - 1) / NR * NR, tiles, keys);
    }

    /**
     * t[b, h, from + r, c] = scale·src[r·rowStep + c·colStep] for r in [0, rows): dq's rows (colStep 1), or a block's
     * dKᵀ, dVᵀ back to rows (rowStep 1, colStep BC).
     */
    private static void storeRows(float[] src, int rowStep, int colStep, Tensor t, int b, int h, int from, int rows,
                                  float scale) {
        int width = (int) t.size(3);
        float[] row = new float[width];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < width; c++) {
                row[c] = src[r * rowStep + c * colStep] * scale;
            }
            long base = t.offset() + b * t.stride(0) + h * t.stride(1) + (long) (from + r) * t.stride(2);
            Lanes.store(row, 0, width, t.storage().segment(), t.dtype(), base, t.stride(3));
        }
    }

    private static void zeroRows(Tensor t, int b, int h, int from, int rows) {
        if (rows > 0) {
            StridedCopy.fill(t.select(0, b).select(0, h).narrow(0, from, rows), 0);
        }
    }
}
