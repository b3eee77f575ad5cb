package dev.loraid.wan;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Storage;

/**
 * {@code patch_embedding} (spec wan.md §2.1, §2.2): a Conv3d with kernel = stride = (pt, ph, pw), done as a
 * reshape and a GEMM. Each patch is read as (c, kt, kh, kw) with c slowest — the weight's own layout — and tokens
 * come out f-major, then h, then w.
 */
final class PatchEmbedding extends Module {
    private final WanConfig config;
    private final Parameter weight;
    private final Parameter bias;

    PatchEmbedding(WanConfig c) {
        this.config = c;
        this.weight = registerParameter("weight",
                Parameter.declared(DType.F32, c.dim(), c.inDim(), c.patchT(), c.patchH(), c.patchW()));
        this.bias = registerParameter("bias", Parameter.declared(DType.F32, c.dim()));
    }

    /** x [C, F, H, W] → tokens [L, D]. */
    Var forward(Var x) {
        long ch = x.size(0);
        long f = x.size(1) / config.patchT();
        long h = x.size(2) / config.patchH();
        long w = x.size(3) / config.patchW();
        Var patches = x.reshape(ch, f, config.patchT(), h, config.patchH(), w, config.patchW())
                .permute(1, 3, 5, 0, 2, 4, 6)
                .reshape(f * h * w, ch * config.patchVolume());
        return Ops.linear(patches, weight.reshape(config.dim(), ch * config.patchVolume()), bias);
    }

    /** head rows [L, pt·ph·pw·C] (c fastest, pitfall 7) → [C, f·pt, h·ph, w·pw] (§2.10). */
    static Var unpatchify(Var rows, WanConfig c, int[] grid) {
        long ch = rows.size(1) / c.patchVolume();
        return rows.reshape(grid[0], grid[1], grid[2], c.patchT(), c.patchH(), c.patchW(), ch)
                .permute(6, 0, 3, 1, 4, 2, 5)
                .reshape(ch, (long) grid[0] * c.patchT(), (long) grid[1] * c.patchH(), (long) grid[2] * c.patchW());
    }

    /** The weight's storage (a view of the checkpoint file until the model is moved). */
    Storage weightStorage() {
        return weight.data().storage();
    }
}
