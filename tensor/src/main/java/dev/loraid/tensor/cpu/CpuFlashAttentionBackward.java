package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Tensor;
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
 */
final class CpuFlashAttentionBackward {
    /**
     * Query and key tile sizes: both must be whole {@link TileMatmul#ROWS}-row register blocks, and BC whole
     * {@link TileMatmul#COLS}-column blocks (checked below).
     */
    private static final int BR = 96;
    private static final int BC = 96;

    static {
        // the tile products step through BR and BC rows in register blocks of TileMatmul.ROWS; a partial block
        // would index past the packed panels
        if (BR % TileMatmul.ROWS != 0 || BC % TileMatmul.ROWS != 0) {
            throw new ExceptionInInitializerError("attention tiles " + BR + "x" + BC
                + " are not multiples of the " + TileMatmul.ROWS + "-row register block");
        }
        // a score-tile row of BC floats is written up to the next whole column block, padCols(keys in the block)
        if (BC % TileMatmul.COLS != 0) {
            throw new ExceptionInInitializerError("attention key tile " + BC + " is not a multiple of the "
                + TileMatmul.COLS + "-column register block");
        }
    }

    private CpuFlashAttentionBackward() {
    }

    /** One head's operands in fp32, packed for {@link TileMatmul}; rows padded to whole tiles. */
    private record Head(float[] qs, float[] dO, float[] delta, float[] lse, float[] kPanels, float[] vPanels,
                        float[] kRows, int dPad, int dvPad, int tiles, int keys) {
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
        float[][] dqAcc = new float[parallel ? Math.min(Parallel.threads(), blocks) : 1][];
        // key blocks are dealt to workers round-robin, not first-come: each worker's dQ partial then covers the
        // same blocks in every run, and the partials are added in worker order — bit-reproducible results
        Parallel.forEach(dqAcc.length, w -> {
            float[] dqw = new float[hd.tiles() * BR * hd.dPad()];
            dqAcc[w] = dqw;
            float[] s = new float[BR * BC];
            float[] ds = new float[BR * BC];
            float[] dkBlk = new float[BC * hd.dPad()];
            float[] dvBlk = new float[BC * hd.dvPad()];
            for (int blk = w; blk < blocks; blk += dqAcc.length) {
                keyBlock(dims, hd, blk, s, ds, dkBlk, dvBlk, dqw);
                int j0 = blk * BC;
                int nb = Math.min(BC, keys - j0);
                storeRows(dkBlk, hd.dPad(), dk, b, h, j0, nb, 1f);
                storeRows(dvBlk, hd.dvPad(), dv, b, h, j0, nb, 1f);
            }
        });
        float[] total = dqAcc[0];
        for (int w = 1; w < dqAcc.length; w++) {
            for (int i = 0; i < total.length; i += VL) {
                FloatVector.fromArray(F, total, i).add(FloatVector.fromArray(F, dqAcc[w], i)).intoArray(total, i);
            }
        }
        storeRows(total, hd.dPad(), dq, b, h, 0, dims.lq(), scale);
        zeroRows(dk, b, h, keys, dims.lk() - keys);
        zeroRows(dv, b, h, keys, dims.lk() - keys);
    }

    /** All query tiles against key block {@code blk}: fills dK, dV of the block and adds into dq. */
    private static void keyBlock(CpuAttention.Dims dims, Head hd, int blk, float[] s, float[] ds, float[] dkBlk,
                                 float[] dvBlk, float[] dqAcc) {
        int d = dims.d();
        int dvn = dims.dv();
        int dPad = hd.dPad();
        int dvPad = hd.dvPad();
        int j0 = blk * BC;
        int nb = Math.min(BC, hd.keys() - j0);
        // a short last key block or query tile is computed only to the next whole register block
        int cols = TileMatmul.padCols(nb);
        int keyRows = TileMatmul.padRows(nb);
        Arrays.fill(dkBlk, 0f);
        Arrays.fill(dvBlk, 0f);
        for (int t = 0; t < hd.tiles(); t++) {
            int i0 = t * BR;
            int rows = Math.min(BR, dims.lq() - i0);
            int m = TileMatmul.padRows(rows);
            // S = (scale·Q)·Kᵀ, then P = exp(S − lse) (masked keys and padded rows give 0)
            TileMatmul.mul(hd.qs(), i0 * dPad, dPad, 1, hd.kPanels(), blk * d * BC, BC, s, 0, BC, m, cols, d, false);
            // dP = dO·Vᵀ
            TileMatmul.mul(hd.dO(), i0 * dvPad, dvPad, 1, hd.vPanels(), blk * dvn * BC, BC, ds, 0, BC, m, cols, dvn, false);
            for (int r = 0; r < m; r++) {
                int base = r * BC;
                float lse = hd.lse()[i0 + r];
                float delta = hd.delta()[i0 + r];
                for (int j = 0; j < cols; j += VL) {
                    FloatVector p = VecMath.exp(FloatVector.fromArray(F, s, base + j).sub(lse));
                    p.intoArray(s, base + j);
                    p.mul(FloatVector.fromArray(F, ds, base + j).sub(delta)).intoArray(ds, base + j);
                }
                Arrays.fill(s, base + nb, base + BC, 0f);
                Arrays.fill(ds, base + nb, base + BC, 0f);
            }
            // dV += Pᵀ·dO, dK += dSᵀ·(scale·Q), dQ += dS·K
            TileMatmul.mul(s, 0, 1, BC, hd.dO(), i0 * dvPad, dvPad, dvBlk, 0, dvPad, keyRows, dvPad, rows, true);
            TileMatmul.mul(ds, 0, 1, BC, hd.qs(), i0 * dPad, dPad, dkBlk, 0, dPad, keyRows, dPad, rows, true);
            TileMatmul.mul(ds, 0, BC, 1, hd.kRows(), j0 * dPad, dPad, dqAcc, i0 * dPad, dPad, m, dPad, nb, true);
        }
    }

    private static Head pack(CpuAttention.Dims dims, Tensor q, Tensor k, Tensor v, Tensor out, Tensor dOut, Tensor lse,
                             float scale, int b, int h, int keys, boolean parallel) {
        int lq = dims.lq();
        int tiles = (lq + BR - 1) / BR;
        int dPad = TileMatmul.padCols(dims.d());
        int dvPad = TileMatmul.padCols(dims.dv());
        float[] qs = new float[tiles * BR * dPad];
        float[] dO = new float[tiles * BR * dvPad];
        HeadPack.headRows(q, b, h, lq, scale, qs, dPad, parallel);
        HeadPack.headRows(dOut, b, h, lq, 1f, dO, dvPad, parallel);
        float[] delta = new float[tiles * BR];
        float[] lseRows = new float[tiles * BR];
        Arrays.fill(lseRows, Float.POSITIVE_INFINITY); // padded rows: P = exp(s − ∞) = 0
        int chunks = parallel ? Math.min(Parallel.threads() * 4, tiles) : 1;
        Parallel.forEach(chunks, c -> {
            float[] o = new float[dvPad];
            for (int r = lq * c / chunks, end = lq * (c + 1) / chunks; r < end; r++) {
                HeadPack.rows(out, b, h, r, 1, 1f, o, 0, dvPad);
                FloatVector acc = FloatVector.zero(F);
                for (int i = 0; i < dvPad; i += VL) {
                    acc = FloatVector.fromArray(F, dO, r * dvPad + i).fma(FloatVector.fromArray(F, o, i), acc);
                }
                delta[r] = VecMath.sumLanes(acc); // Δ = rowsum(dO ∘ O)
                lseRows[r] = (float) lse.getDouble(b, h, r);
            }
        });
        int blocks = (keys + BC - 1) / BC;
        float[] kRows = new float[blocks * BC * dPad];
        HeadPack.headRows(k, b, h, keys, 1f, kRows, dPad, parallel);
        return new Head(qs, dO, delta, lseRows, HeadPack.transposedPanels(k, b, h, keys, BC, parallel),
            HeadPack.transposedPanels(v, b, h, keys, BC, parallel), kRows, dPad, dvPad, tiles, keys);
    }

    /** t[b, h, from + r, :] = scale·src[r·ld ..] for r in [0, rows). */
    private static void storeRows(float[] src, int ld, Tensor t, int b, int h, int from, int rows, float scale) {
        int width = (int) t.size(3);
        float[] row = new float[width];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < width; c++) {
                row[c] = src[r * ld + c] * scale;
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
