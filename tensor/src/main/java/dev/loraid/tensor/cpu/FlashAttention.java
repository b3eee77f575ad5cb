package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.loraid.tensor.cpu.Lanes.F;
import static dev.loraid.tensor.cpu.Lanes.VL;

/**
 * Flash attention forward in fp32 (Dao et al. 2022, FlashAttention-2 loop order): per head, query tiles of
 * {@link #BR} rows run in parallel; each walks the keys in blocks of {@link #BC}, computing the score tile
 * S = (scale·Q)·Kᵀ, folding it into a running row max m and row sum l (online softmax: earlier partial outputs
 * are rescaled by exp(m_old − m_new)), and accumulating P·V. Memory per head is O(L·D): the packed keys and
 * values plus one [BR, BC] score tile per thread, never [Lq, Lk]. Writes lse = m + log l for the backward.
 */
final class FlashAttention {
    /**
     * Query and key tile sizes: both must be whole {@link TileMatmul#ROWS}-row register blocks, and BC whole
     * {@link TileMatmul#COLS}-column blocks (checked below).
     */
    static final int BR = 96;
    static final int BC = 96;

    static {
        // the tile products (forward and backward, which transposes the roles) step through BR and BC rows in
        // register blocks of TileMatmul.ROWS; a partial block would index past the packed panels
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

    private FlashAttention() {
    }

    /** One head's keys and values in fp32, packed for {@link TileMatmul}. */
    record PackedKv(float[] kPanels, float[] v, int keys, int dvPad) {
        static PackedKv of(Tensor k, Tensor v, int b, int h, int keys, boolean parallel) {
            int dv = (int) v.size(3);
            int dvPad = TileMatmul.padCols(dv);
            int blocks = (keys + BC - 1) / BC;
            float[] vv = new float[blocks * BC * dvPad];
            HeadPack.headRows(v, b, h, keys, 1f, vv, dvPad, parallel);
            return new PackedKv(HeadPack.transposedPanels(k, b, h, keys, BC, parallel), vv, keys, dvPad);
        }

        int blocks() {
            return (keys + BC - 1) / BC;
        }
    }

    /**
     * bias: null, or [B, H, Lq, Lk] (any strides) added to the scaled scores, read one [BR, BC] tile at a time as the
     * tile is scored ({@link CpuAttention#forwardWithBias}).
     */
    static void forward(CpuAttention.Dims dims, Tensor q, Tensor k, Tensor v, Tensor bias, float scale, int[] kvLengths,
                        Tensor out, Tensor lse) {
        int tiles = (dims.lq() + BR - 1) / BR;
        forEachHead(dims, tiles, (b, h, parallel) -> head(dims, q, k, v, bias, scale, dims.keys(kvLengths, b), out, lse,
            b, h, tiles, parallel));
    }

    @FunctionalInterface
    interface HeadTask {
        void run(int b, int h, boolean parallel);
    }

    /**
     * Runs every (batch, head): whole heads in parallel when they divide evenly over the threads (no barrier per
     * head, and the backward has no dQ partials to add) or are too short to share; else one head at a time with
     * its {@code units} (query tiles or key blocks) spread over the threads. Either way each head's arithmetic is
     * fixed by the thread count alone, not by scheduling.
     */
    static void forEachHead(CpuAttention.Dims dims, int units, HeadTask task) {
        int heads = dims.batch() * dims.heads();
        boolean wholeHeads = heads % Parallel.threads() == 0 || units < 2 * Parallel.threads();
        if (heads == 1 || !wholeHeads) {
            for (int bh = 0; bh < heads; bh++) {
                task.run(bh / dims.heads(), bh % dims.heads(), true);
            }
        } else {
            Parallel.forEach(heads, bh -> task.run(bh / dims.heads(), bh % dims.heads(), false));
        }
    }

    private static void head(CpuAttention.Dims dims, Tensor q, Tensor k, Tensor v, Tensor bias, float scale, int keys,
                             Tensor out, Tensor lse, int b, int h, int tiles, boolean parallel) {
        int d = dims.d();
        PackedKv kv = PackedKv.of(k, v, b, h, keys, parallel);
        AtomicInteger next = new AtomicInteger();
        Parallel.forEach(parallel ? Math.min(Parallel.threads(), tiles) : 1, w -> {
            TileState st = new TileState(d, kv.dvPad());
            for (int t; (t = next.getAndIncrement()) < tiles; ) {
                int from = t * BR;
                int rows = Math.min(BR, dims.lq() - from);
                st.reset();
                HeadPack.rows(q, b, h, from, rows, scale, st.q, 0, d);
                st.attend(kv, d, rows, bias == null ? null : new BiasRows(bias, b, h, from));
                st.store(out, lse, b, h, from, rows, dims.dv());
            }
        });
    }

    /** The bias rows of one query tile: bias[b, h, from + r, j]. */
    record BiasRows(Tensor bias, int b, int h, int from) {
        /** s[r·ld + j] += bias[b, h, from + r, j0 + j] for r < rows, j < nb, through the one-row buffer {@code row}. */
        void addTo(float[] s, int ld, int rows, int j0, int nb, float[] row) {
            long base = bias.offset() + b * bias.stride(0) + h * bias.stride(1) + (long) j0 * bias.stride(3);
            for (int r = 0; r < rows; r++) {
                FloatRuns.read(bias.storage().segment(), bias.dtype(), base + (long) (from + r) * bias.stride(2),
                    bias.stride(3), row, 0, nb);
                int at = r * ld;
                int j = 0;
                for (; j < F.loopBound(nb); j += VL) {
                    FloatVector.fromArray(F, s, at + j).add(FloatVector.fromArray(F, row, j)).intoArray(s, at + j);
                }
                for (; j < nb; j++) {
                    s[at + j] += row[j];
                }
            }
        }
    }

    /** One worker's buffers for a query tile: scaled queries, the score tile, the output accumulator and m, l. */
    static final class TileState {
        final float[] q;
        final float[] s = new float[BR * BC];
        final float[] o;
        final float[] m = new float[BR];
        final float[] l = new float[BR];
        /** Per key block: each row's new maximum, then the factor exp(m_old − m_new) its o and l are rescaled by. */
        private final float[] mNew = new float[BR];
        private final float[] alpha = new float[BR];
        /** One row of a bias tile, widened to fp32. */
        final float[] row = new float[BC];
        final int dvPad;

        TileState(int d, int dvPad) {
            this.q = new float[BR * d];
            this.o = new float[BR * dvPad];
            this.dvPad = dvPad;
        }

        void reset() {
            Arrays.fill(q, 0f);
            Arrays.fill(o, 0f);
            Arrays.fill(m, Float.NEGATIVE_INFINITY);
            Arrays.fill(l, 0f);
        }

        /**
         * Folds every key block into o, m, l for the first {@code rows} query rows. A short last tile or key block
         * is computed only to the next whole register block, not to the full tile.
         */
        void attend(PackedKv kv, int d, int rows, BiasRows bias) {
            int m = TileMatmul.padRows(rows);
            for (int blk = 0; blk < kv.blocks(); blk++) {
                int j0 = blk * BC;
                int nb = Math.min(BC, kv.keys() - j0);
                int cols = TileMatmul.padCols(nb);
                TileMatmul.mul(q, 0, d, 1, kv.kPanels(), blk * d * BC, BC, s, 0, BC, m, cols, d, false);
                if (bias != null) {
                    bias.addTo(s, BC, rows, j0, nb, row);
                }
                softmaxStep(m, nb, cols);
                TileMatmul.mul(s, 0, BC, 1, kv.v(), j0 * dvPad, dvPad, o, 0, dvPad, m, dvPad, nb, true);
            }
        }

        /**
         * Online softmax for the first {@code rows} rows of the score tile (columns [0, cols), of which the first
         * {@code valid} are keys): s ← exp(s − m_new), l and o rescaled to the new max. Three passes over the rows
         * (maxima; exponentials and sums; rescaling) rather than one row at a time: each row's horizontal max and
         * sum are chains of dependent shuffles, and rows in one pass are independent, so the core overlaps them.
         * Each row's arithmetic, and so the result, is the same either way.
         */
        private void softmaxStep(int rows, int valid, int cols) {
            for (int r = 0; r < rows; r++) {
                int base = r * BC;
                Arrays.fill(s, base + valid, base + cols, Float.NEGATIVE_INFINITY);
                // compare-and-blend rather than max(), whose Java NaN semantics cost C2 extra instructions on x86 (a
                // NaN score still makes its row NaN, through the exp below)
                FloatVector mx = FloatVector.fromArray(F, s, base);
                for (int j = VL; j < cols; j += VL) {
                    FloatVector x = FloatVector.fromArray(F, s, base + j);
                    mx = mx.blend(x, x.compare(VectorOperators.GT, mx));
                }
                mNew[r] = Math.max(m[r], mx.reduceLanes(VectorOperators.MAX));
            }
            for (int r = 0; r < rows; r++) {
                int base = r * BC;
                float mOld = m[r];
                float mr = mNew[r];
                FloatVector sum = FloatVector.zero(F);
                for (int j = 0; j < cols; j += VL) {
                    FloatVector p = VecMath.exp(FloatVector.fromArray(F, s, base + j).sub(mr));
                    p.intoArray(s, base + j);
                    sum = sum.add(p);
                }
                float a = mOld == mr ? 1f : mOld == Float.NEGATIVE_INFINITY ? 0f : (float) Math.exp(mOld - mr);
                l[r] = l[r] * a + VecMath.sumLanes(sum);
                m[r] = mr;
                alpha[r] = a;
            }
            for (int r = 0; r < rows; r++) {
                float a = alpha[r];
                if (a != 1f) {
                    int ob = r * dvPad;
                    for (int c = 0; c < dvPad; c += VL) {
                        FloatVector.fromArray(F, o, ob + c).mul(a).intoArray(o, ob + c);
                    }
                }
            }
        }

        /** out rows = o / l; lse = m + log l (a row with no valid key: out 0, lse −∞). */
        void store(Tensor out, Tensor lse, int b, int h, int from, int rows, int dv) {
            for (int r = 0; r < rows; r++) {
                float inv = l[r] > 0 ? 1f / l[r] : 0f;
                int ob = r * dvPad;
                for (int c = 0; c < dvPad; c += VL) {
                    FloatVector.fromArray(F, o, ob + c).mul(inv).intoArray(o, ob + c);
                }
                long base = out.offset() + b * out.stride(0) + h * out.stride(1) + (long) (from + r) * out.stride(2);
                Lanes.store(o, ob, dv, out.storage().segment(), out.dtype(), base, out.stride(3));
                if (lse != null) {
                    lse.setDouble(l[r] > 0 ? m[r] + Math.log(l[r]) : Double.NEGATIVE_INFINITY, b, h, from + r);
                }
            }
        }
    }
}
