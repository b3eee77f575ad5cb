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

    /**
     * Keys [0, keys) of head (b, h) transposed into panels of {@code block} keys: panel p holds
     * {@code [D][block]} at offset p·D·block, so {@code kᵀ} of one key block is a contiguous row-major tile.
     * Keys past {@code keys} are zero.
     */
    static float[] transposedPanels(Tensor t, int b, int h, int keys, int block) {
        int d = (int) t.size(3);
        int panels = (keys + block - 1) / block;
        float[] out = new float[panels * d * block];
        float[] row = new float[d];
        for (int j = 0; j < keys; j++) {
            Lanes.load(t.storage().segment(), t.dtype(), rowBase(t, b, h, j), t.stride(3), row, 0, d);
            int base = (j / block) * d * block + j % block;
            for (int c = 0; c < d; c++) {
                out[base + c * block] = row[c];
            }
        }
        return out;
    }
}
