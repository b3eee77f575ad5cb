package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.cpu.gemm.GemmTiling;
import dev.loraid.tensor.cpu.gemm.MicroKernel;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.loraid.tensor.cpu.Lanes.F;
import static dev.loraid.tensor.cpu.Lanes.VL;

/**
 * Flash attention forward in fp32 (Dao et al. 2022, FlashAttention-2 loop order): per head, query tiles of
 * {@link #BR} rows run in parallel; each walks the keys in blocks of {@link #BC}, computing the score tile, folding
 * it into a running max m and sum l per query (online softmax: earlier partial outputs are rescaled by
 * exp(m_old − m_new)), and accumulating P·V. Memory per head is O(L·D): the packed keys and values plus one
 * [BC, BR] score tile per thread, never [Lq, Lk]. Writes lse = m + log l for the backward.
 *
 * <p>Both products run on the GEMM's register kernel ({@link MicroKernel}) over operands in its packed layouts,
 * transposed so that no operand is ever repacked per block: Sᵀ = K·(scale·Q)ᵀ, with the keys in strips of MR
 * (packed once per head) and the tile's queries in panels of NR, and Oᵀ += Vᵀ·Pᵀ, with the value features in strips
 * of MR (once per head) and Pᵀ, which the first product wrote, already in panels of NR queries. A query's max and
 * sum then run down its lane of a panel, VL queries at a time, with no horizontal reduction, and the rescaling of
 * its output is a vector product too. On a Zen 3 (one thread, 96x96x128 products in cache) the former tile kernel,
 * which read A through two strides with an address and a bounds check per broadcast, ran at 72 and 62 GFLOP/s (S,
 * P·V), the GEMM's at 88 and 75; the whole forward went from 0.71 to 0.90 of PyTorch's fused SDPA (bench/RESULTS.md).
 */
final class FlashAttention {
    private static final int MR = GemmTiling.MR;
    private static final int NR = GemmTiling.NR;
    /** Queries per tile: whole panels of NR. */
    private static final int BR = NR * Math.max(1, 96 / NR);
    /** Keys per block: whole strips of MR; the depth of each P·V product ({@code -Dloraid.attention.keys}). */
    private static final int BC = MR * Math.max(1, Integer.getInteger("loraid.attention.keys", 192) / MR);

    private FlashAttention() {
    }

    /**
     * One head's keys, in strips of MR keys ([strip][D][MR]), and values, each key block's in strips of MR features
     * ([block][strip][BC][MR]): a block's value strips lie side by side, where strips over all the keys would lie
     * keys·MR floats apart (64 KiB at 4096 keys) and their runs for one block would fall into the same cache sets.
     */
    record PackedKv(float[] kStrips, float[] vStrips, int keys, int dvPad) {
        static PackedKv of(Tensor k, Tensor v, int b, int h, int keys, boolean parallel) {
            int dvPad = (int) ((v.size(3) + MR - 1) / MR * MR);
            return new PackedKv(HeadPack.transposedPanels(k, b, h, keys, MR, 1f, parallel),
                HeadPack.columnPanels(v, b, h, keys, BC, MR, parallel), keys, dvPad);
        }

        int blocks() {
            return (keys + BC - 1) / BC;
        }
    }

    /**
     * bias: null, or [B, H, Lq, Lk] (any strides) added to the scaled scores, read one tile at a time as the
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
                st.reset(rows);
                HeadPack.transposed(q, b, h, from, rows, NR, scale, st.qPanels, 0);
                st.attend(kv, d, rows, bias == null ? null : new BiasRows(bias, b, h, from));
                st.store(out, lse, b, h, from, rows, dims.dv());
            }
        });
    }

    /** The bias rows of one query tile: bias[b, h, from + r, j]. */
    record BiasRows(Tensor bias, int b, int h, int from) {
        /** Adds bias[b, h, from + r, j0 + j] to query r's score of key j, for r < rows, j < nb (Sᵀ in panels of NR). */
        void addTo(float[] s, int rows, int j0, int nb, float[] row) {
            long base = bias.offset() + b * bias.stride(0) + h * bias.stride(1) + (long) j0 * bias.stride(3);
            for (int r = 0; r < rows; r++) {
                FloatRuns.read(bias.storage().segment(), bias.dtype(), base + (long) (from + r) * bias.stride(2),
                    bias.stride(3), row, 0, nb);
                int at = (r / NR) * BC * NR + r % NR;
                for (int j = 0; j < nb; j++) {
                    s[at + j * NR] += row[j];
                }
            }
        }
    }

    /**
     * One worker's buffers for a query tile. Every query-indexed array is in panels of NR queries, the layout of a B
     * panel: the scaled queries [BR / NR][D][NR], Sᵀ then Pᵀ [BR / NR][BC][NR], the output Oᵀ [BR / NR][dvPad][NR].
     */
    static final class TileState {
        final float[] qPanels;
        final float[] s = new float[BR * BC];
        final float[] o;
        final float[] m = new float[BR];
        final float[] l = new float[BR];
        /** One row of a bias tile, widened to fp32; one output row. */
        final float[] row;
        final int dvPad;

        TileState(int d, int dvPad) {
            this.qPanels = new float[BR * d];
            this.o = new float[BR * dvPad];
            this.row = new float[Math.max(BC, dvPad)];
            this.dvPad = dvPad;
        }

        /** Clears the accumulators; a short tile also clears the query slots it does not fill. */
        void reset(int rows) {
            if (rows < BR) {
                Arrays.fill(qPanels, 0f);
            }
            Arrays.fill(o, 0f);
            Arrays.fill(m, Float.NEGATIVE_INFINITY);
            Arrays.fill(l, 0f);
        }

        /**
         * Folds every key block into o, m, l for the first {@code rows} queries. A short last tile or key block is
         * computed only to the next whole panel or strip, not to the full tile.
         */
        void attend(PackedKv kv, int d, int rows, BiasRows bias) {
            int panels = (rows + NR - 1) / NR;
            int featureStrips = kv.dvPad() / MR;
            for (int blk = 0; blk < kv.blocks(); blk++) {
                int j0 = blk * BC;
                int nb = Math.min(BC, kv.keys() - j0);
                int keyStrips = (nb + MR - 1) / MR;
                for (int p = 0; p < panels; p++) {
                    // Sᵀ = K·(scale·Q)ᵀ: the panel of queries stays in L1 while the key strips pass
                    for (int st = 0; st < keyStrips; st++) {
                        MicroKernel.multiply(d, kv.kStrips(), (j0 + st * MR) * d, qPanels, p * d * NR,
                            s, (p * BC + st * MR) * NR, NR, false);
                    }
                }
                if (bias != null) {
                    bias.addTo(s, rows, j0, nb, row);
                }
                softmaxStep(nb, panels);
                for (int p = 0; p < panels; p++) {
                    // Oᵀ += Vᵀ·Pᵀ over the block's keys: the panel of P stays in L1 while the value strips pass
                    for (int st = 0; st < featureStrips; st++) {
                        MicroKernel.multiply(nb, kv.vStrips(), (j0 * featureStrips + st * BC) * MR, s, p * BC * NR,
                            o, (p * dvPad + st * MR) * NR, NR, true);
                    }
                }
            }
        }

        /**
         * Online softmax over the first {@code valid} keys of Sᵀ for the queries of the first {@code panels} panels:
         * sᵀ ← exp(sᵀ − m_new), l and o rescaled to the new max. A query's max and sum run down its lane of the
         * panel, VL queries at a time; the max in two chains (a compare and a blend take about 5 cycles).
         */
        private void softmaxStep(int valid, int panels) {
            for (int c = 0; c < panels * NR; c += VL) {
                int base = (c / NR) * BC * NR + c % NR;
                FloatVector mOld = FloatVector.fromArray(F, m, c);
                FloatVector x = mOld;
                FloatVector y = mOld;
                int j = 0;
                for (; j + 1 < valid; j += 2) {
                    x = max(x, FloatVector.fromArray(F, s, base + j * NR));
                    y = max(y, FloatVector.fromArray(F, s, base + (j + 1) * NR));
                }
                if (j < valid) {
                    x = max(x, FloatVector.fromArray(F, s, base + j * NR));
                }
                FloatVector mNew = max(x, y);
                FloatVector sum = FloatVector.zero(F);
                for (j = 0; j < valid; j++) {
                    FloatVector p = VecMath.exp(FloatVector.fromArray(F, s, base + j * NR).sub(mNew));
                    p.intoArray(s, base + j * NR);
                    sum = sum.add(p);
                }
                // exp(m_old − m_new): 1 where the max stayed, 0 where there was none yet (m_old = −∞)
                FloatVector a = VecMath.exp(mOld.sub(mNew)).blend(0f, mOld.eq(Float.NEGATIVE_INFINITY))
                    .blend(1f, mOld.eq(mNew));
                a.fma(FloatVector.fromArray(F, l, c), sum).intoArray(l, c);
                mNew.intoArray(m, c);
                for (int f = 0, ob = (c / NR) * dvPad * NR + c % NR; f < dvPad; f++, ob += NR) {
                    FloatVector.fromArray(F, o, ob).mul(a).intoArray(o, ob);
                }
            }
        }

        /**
         * The larger of each lane by compare and blend rather than max(), whose Java NaN semantics cost C2 extra
         * instructions on x86 (a NaN score still makes its query NaN, through the exp).
         */
        private static FloatVector max(FloatVector acc, FloatVector x) {
            return acc.blend(x, x.compare(VectorOperators.GT, acc));
        }

        /** out rows = o / l; lse = m + log l (a row with no valid key: out 0, lse −∞). */
        void store(Tensor out, Tensor lse, int b, int h, int from, int rows, int dv) {
            for (int r = 0; r < rows; r++) {
                float inv = l[r] > 0 ? 1f / l[r] : 0f;
                int ob = (r / NR) * dvPad * NR + r % NR;
                for (int f = 0; f < dv; f++) {
                    row[f] = o[ob + f * NR] * inv;
                }
                long base = out.offset() + b * out.stride(0) + h * out.stride(1) + (long) (from + r) * out.stride(2);
                Lanes.store(row, 0, dv, out.storage().segment(), out.dtype(), base, out.stride(3));
                if (lse != null) {
                    lse.setDouble(l[r] > 0 ? m[r] + Math.log(l[r]) : Double.NEGATIVE_INFINITY, b, h, from + r);
                }
            }
        }
    }
}
