package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Tensor;

/**
 * Copies rows of one attention head (b, h) of a [B, H, L, D] view into dense fp32 work arrays for the attention
 * kernels: one row as it is, rows transposed into panels of rows, or rows cut into panels of columns. Narrow dtypes
 * are widened row by row here, so the kernels only ever see fp32 tiles.
 */
final class HeadPack {
    private HeadPack() {
    }

    /** {@code dst[c] = t[b, h, row, c]} for c in [0, D); entries past D are left as they are. */
    static void row(Tensor t, int b, int h, int row, float[] dst) {
        long base = t.offset() + b * t.stride(0) + h * t.stride(1) + (long) row * t.stride(2);
        Lanes.load(t.storage().segment(), t.dtype(), base, t.stride(3), dst, 0, (int) t.size(3));
    }

    /**
     * Rows [0, keys) of head (b, h), times {@code scale}, transposed into panels of {@code block} rows: panel p holds
     * {@code [D][block]} at offset p·D·block, so {@code kᵀ} of one key block is a contiguous row-major tile.
     * Rows past {@code keys} are zero.
     */
    static float[] transposedPanels(Tensor t, int b, int h, int keys, int block, float scale, boolean parallel) {
        int d = (int) t.size(3);
        int panels = (keys + block - 1) / block;
        float[] out = new float[panels * d * block];
        // whole panels per task, at least 64 rows each
        int perTask = Math.max(1, 64 / block) * block;
        int tasks = parallel ? (keys + perTask - 1) / perTask : 1;
        Parallel.forEach(tasks, task -> {
            int from = parallel ? task * perTask : 0;
            int to = parallel ? Math.min(keys, from + perTask) : keys;
            transposed(t, b, h, from, to - from, block, scale, out, from * d);
        });
        return out;
    }

    /**
     * Rows [from, from + rows) of head (b, h), times {@code scale}, transposed into panels of {@code block} rows:
     * {@code dst[dstOff + (r / block)·D·block + c·block + r % block] = scale·t[b, h, from + r, c]}. Slots of rows past
     * {@code rows} are left as they are.
     */
    static void transposed(Tensor t, int b, int h, int from, int rows, int block, float scale, float[] dst, int dstOff) {
        int d = (int) t.size(3);
        float[] values = new float[d];
        for (int r = 0; r < rows; r++) {
            row(t, b, h, from + r, values);
            int base = dstOff + (r / block) * d * block + r % block;
            for (int c = 0; c < d; c++) {
                dst[base + c * block] = scale * values[c];
            }
        }
    }

    /**
     * Rows [0, rows) of head (b, h) in runs of {@code run} rows, each run cut into panels of {@code width} columns:
     * run g's panel p holds {@code [run][width]} at offset (g·panels + p)·run·width (columns past D, and rows past
     * {@code rows} in the last run, are zero), so one panel of a run is a contiguous row-major tile.
     */
    static float[] columnPanels(Tensor t, int b, int h, int rows, int run, int width, boolean parallel) {
        int d = (int) t.size(3);
        int panels = (d + width - 1) / width;
        float[] out = new float[(rows + run - 1) / run * run * panels * width];
        int chunks = parallel ? Math.min(Parallel.threads() * 4, (rows + 63) / 64) : 1;
        Parallel.forEach(chunks, task -> {
            float[] values = new float[panels * width];
            for (int r = (int) ((long) rows * task / chunks), end = (int) ((long) rows * (task + 1) / chunks); r < end; r++) {
                row(t, b, h, r, values);
                int at = ((r / run) * panels * run + r % run) * width;
                // a plain loop: a panel's row is only MR floats (16 bytes), a call of arraycopy per panel cost more
                for (int p = 0, c = 0; p < panels; p++) {
                    for (int i = 0, o = at + p * run * width; i < width; i++, c++) {
                        out[o + i] = values[c];
                    }
                }
            }
        });
        return out;
    }
}
