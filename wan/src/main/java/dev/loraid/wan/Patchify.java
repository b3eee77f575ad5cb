package dev.loraid.wan;

import dev.loraid.tensor.Tensor;

/**
 * The two reorderings around the transformer (spec wan.md §2.1, §2.2, §2.10, pitfall 7): the patch embedding
 * reads each patch as (c, kt, kh, kw) with c slowest, the head writes it as (pt, ph, pw, c) with c fastest;
 * tokens are f-major, then h, then w.
 */
final class Patchify {
    private Patchify() {
    }

    /** x [C, F, H, W] → [L, C·pt·ph·pw], one row per token: the patch-embedding Conv3d as a GEMM operand. */
    static Tensor patches(Tensor x, WanConfig c) {
        long ch = x.size(0);
        long f = x.size(1) / c.patchT();
        long h = x.size(2) / c.patchH();
        long w = x.size(3) / c.patchW();
        Tensor v = x.contiguous().view(ch, f, c.patchT(), h, c.patchH(), w, c.patchW());
        return v.permute(1, 3, 5, 0, 2, 4, 6).contiguous().view(f * h * w, ch * c.patchVolume());
    }

    /** rows [L, pt·ph·pw·C] (c fastest) → [C, f·pt, h·ph, w·pw]. */
    static Tensor unpatchify(Tensor rows, WanConfig c, int[] grid) {
        long ch = rows.size(1) / c.patchVolume();
        Tensor v = rows.contiguous().view(grid[0], grid[1], grid[2], c.patchT(), c.patchH(), c.patchW(), ch);
        return v.permute(6, 0, 3, 1, 4, 2, 5).contiguous()
                .view(ch, (long) grid[0] * c.patchT(), (long) grid[1] * c.patchH(), (long) grid[2] * c.patchW());
    }
}
