package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Tensor;

/**
 * Copies rows of one attention head (b, h) of a [B, H, L, D] view into dense fp32 work arrays for
 * {@link TileMatmul}: row-major with padded width, or transposed into per-key-block panels. Narrow dtypes are
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
     * Keys [0, keys) of head (b, h) transposed into panels of {@code block} keys: panel p holds
     * {@code [D][block]} at offset p·D·block, so {@code kᵀ} of one key block is a contiguous row-major tile.
     * Keys past {@code keys} are zero.
     */
    static float[] transposedPanels(Tensor t, int b, int h, int keys, int block, boolean parallel) {
        int d = (int) t.size(3);
        int panels = (keys + block - 1) / block;
        float[] out = new float[panels * d * block];
        Parallel.forEach(parallel ? panels : 1, task -> {
            float[] row = new float[d];
            int from = parallel ? task * block : 0;
            int to = parallel ? Math.min(keys, from + block) : keys;
            for (int j = from; j < to; j++) {
                Lanes.load(t.storage().segment(), t.dtype(), rowBase(t, b, h, j), t.stride(3), row, 0, d);
                int base = (j / block) * d * block + j % block;
                for (int c = 0; c < d; c++) {
                    out[base + c * block] = row[c];
                }
            }
        });
        return out;
    }
}
