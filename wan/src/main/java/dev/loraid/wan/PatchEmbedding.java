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

    /** x [C, F, H, W] → tokens [L, D]; a batch x [B, C, F, H, W] → [B, L, D] (one GEMM over all B·L patches). */
    Var forward(Var x) {
        boolean batched = x.rank() == 5;
        Var xb = batched ? x : x.unsqueeze(0);
        long n = xb.size(0);
        long ch = xb.size(1);
        long f = xb.size(2) / config.patchT();
        long h = xb.size(3) / config.patchH();
        long w = xb.size(4) / config.patchW();
        Var patches = xb.reshape(n, ch, f, config.patchT(), h, config.patchH(), w, config.patchW())
                .permute(0, 2, 4, 6, 1, 3, 5, 7)
                .reshape(n * f * h * w, ch * config.patchVolume());
        Var tokens = Ops.linear(patches, weight.reshape(config.dim(), ch * config.patchVolume()), bias);
        return batched ? tokens.reshape(n, f * h * w, config.dim()) : tokens;
    }

    /**
     * head rows [L, pt·ph·pw·C] (c fastest, pitfall 7) → [C, f·pt, h·ph, w·pw] (§2.10); a batch [B, L, …] →
     * [B, C, f·pt, h·ph, w·pw].
     */
    static Var unpatchify(Var rows, WanConfig c, int[] grid) {
        boolean batched = rows.rank() == 3;
        Var rb = batched ? rows : rows.unsqueeze(0);
        long n = rb.size(0);
        long ch = rb.size(2) / c.patchVolume();
        Var out = rb.reshape(n, grid[0], grid[1], grid[2], c.patchT(), c.patchH(), c.patchW(), ch)
                .permute(0, 7, 1, 4, 2, 5, 3, 6)
                .reshape(n, ch, (long) grid[0] * c.patchT(), (long) grid[1] * c.patchH(), (long) grid[2] * c.patchW());
        return batched ? out : out.squeeze(0);
    }

    /** The weight's storage (a view of the checkpoint file until the model is moved). */
    Storage weightStorage() {
        return weight.data().storage();
    }
}
