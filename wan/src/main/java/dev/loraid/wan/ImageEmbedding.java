package dev.loraid.wan;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.LayerNorm;
import dev.loraid.autograd.nn.Sequential;
import dev.loraid.tensor.DType;

/**
 * {@code img_emb} (spec wan.md §2.6, "MLPProj"), 2.1 I2V/FLF2V only: CLIP tokens [257 or 514, 1280] →
 * LayerNorm(affine, eps 1e-5) → Linear → GELU (exact erf) → Linear(1280 → D) → LayerNorm(affine, eps 1e-5).
 * FLF2V first adds the learned positions {@code emb_pos} to its two images' 514 tokens.
 */
final class ImageEmbedding extends Module {
    /** PyTorch's default LayerNorm eps, which MLPProj keeps (pitfall 11). */
    private static final double EPS = 1e-5;

    private final Sequential proj;
    private final Parameter embPos;

    ImageEmbedding(WanConfig c) {
        long clip = WanConfig.CLIP_DIM;
        this.proj = registerModule("proj", Sequential.of(LayerNorm.declared(clip, EPS, DType.F32),
                new WanLinear(clip, clip), new ErfGelu(), new WanLinear(clip, c.dim()),
                LayerNorm.declared(c.dim(), EPS, DType.F32)));
        this.embPos = c.imagePositions() ? registerParameter("emb_pos",
                Parameter.declared(DType.F32, 1, 2L * WanConfig.CLIP_TOKENS, clip)) : null;
    }

    /** clip [tokens, 1280] → [tokens, D]. */
    Var forward(Var clip) {
        Var x = embPos == null ? clip : clip.add(embPos.reshape(2L * WanConfig.CLIP_TOKENS, WanConfig.CLIP_DIM));
        return proj.forward(x);
    }
}
