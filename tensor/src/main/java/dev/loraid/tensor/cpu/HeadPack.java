package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Tensor;

/**
 * Copies rows of one attention head (b, h) of a [B, H, L, D] view into dense fp32 work arrays for the attention
 * kernels: row-major with padded width, transposed into panels of rows, or cut into panels of columns. Narrow dtypes are
 * widened row by row here, so the kernels only ever see fp32 tiles.
 */
final class HeadPack {
    private HeadPack() {
    }

    private static long rowBase(Tensor t, int b, int h, int row) {
        return t.offset() + b * t.stride(0) + h * t.stride(1) + (long) row * t.stride(2);
    }

    /**
     * {@code dst[(r)·widthPad + c] = scale·t[b, h, from + r, c]} for r in [0, rows); columns past the tensor's width
     * are left as they are (callers pass zeroed padding).
     */
    static void rows(Tensor t, int b, int h, int from, int rows, float scale, float[] dst, int dstOff, int widthPad) {
        int width = (int) t.size(3);
        for (int r = 0; r < rows; r++) {
            int o = dstOff + r * widthPad;
            Lanes.load(t.storage().segment(), t.dtype(), rowBase(t, b, h, from + r), t.stride(3), dst, o, width);
            if (scale != 1f) {
                for (int c = 0; c < width; c++) {
                    dst[o + c] *= scale;
                }
            }
        }
    }

    /** {@link #rows} for rows [0, rows) of a whole head, spread over the threads when {@code parallel}. */
    static void headRows(Tensor t, int b, int h, int rows, float scale, float[] dst, int widthPad, boolean parallel) {
        int chunks = parallel ? Math.min(Parallel.threads() * 4, (rows + 63) / 64) : 1;
        Parallel.forEach(chunks, c -> {
            int from = (int) ((long) rows * c / chunks);
            int to = (int) ((long) rows * (c + 1) / chunks);
            rows(t, b, h, from, to - from, scale, dst, from * widthPad, widthPad);
        });
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
        float[] row = new float[d];
        for (int r = 0; r < rows; r++) {
            Lanes.load(t.storage().segment(), t.dtype(), rowBase(t, b, h, from + r), t.stride(3), row, 0, d);
            int base = dstOff + (r / block) * d * block + r % block;
            for (int c = 0; c < d; c++) {
                dst[base + c * block] = scale * row[c];
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
            float[] row = new float[panels * width];
            for (int r = (int) ((long) rows * task / chunks), end = (int) ((long) rows * (task + 1) / chunks); r < end; r++) {
                Lanes.load(t.storage().segment(), t.dtype(), rowBase(t, b, h, r), t.stride(3), row, 0, d);
                int at = ((r / run) * panels * run + r % run) * width;
                // a plain loop: a panel's row is only MR floats (16 bytes), a call of arraycopy per panel cost more
                for (int p = 0, c = 0; p < panels; p++) {
                    for (int i = 0, o = at + p * run * width; i < width; i++, c++) {
                        out[o + i] = row[c];
                    }
                }
            }
        });
        return out;
    }
}
