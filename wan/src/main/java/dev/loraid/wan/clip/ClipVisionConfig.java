package dev.loraid.wan.clip;

import java.util.Map;

/**
 * The shape of Wan's CLIP vision tower (spec wan.md §5.4; upstream {@code VisionTransformer} of
 * {@code clip_xlm_roberta_vit_h_14}): ViT-H/14 is dim 1280, 32 blocks of 16 heads, MLP 5120, patch 14 on 224×224
 * images (256 patches and a class token: 257 tokens), LayerNorm eps 1e-5. Wan reads the output of the first
 * {@link #usedLayers()} blocks (all but the last).
 *
 * @param dim       token width
 * @param layers    the blocks the checkpoint has
 * @param heads     attention heads
 * @param mlpDim    the MLP's hidden width
 * @param patch     patch size
 * @param imageSize the square input size
 */
public record ClipVisionConfig(int dim, int layers, int heads, int mlpDim, int patch, int imageSize) {
    /** PyTorch's default LayerNorm eps, which CLIP keeps (wan.md pitfall 11). */
    public static final double EPS = 1e-5;
    /** ViT-H's head width: how the head count is read off a checkpoint's shapes, which do not record it. */
    public static final int HEAD_DIM = 80;
    /** Wan's tower: open-clip XLM-RoBERTa-Large ViT-H/14. */
    public static final ClipVisionConfig VIT_H_14 = new ClipVisionConfig(1280, 32, 16, 5120, 14, 224);

    public ClipVisionConfig {
        if (dim <= 0 || heads <= 0 || dim % heads != 0 || layers < 2 || mlpDim <= 0 || patch <= 0 || imageSize % patch != 0) {
            throw new IllegalArgumentException("CLIP vision config: dim " + dim + " must split into " + heads + " heads, "
                + "at least 2 layers (got " + layers + "), and the image size " + imageSize + " must be a multiple of the "
                + "patch " + patch);
        }
    }

    /** 1 + (imageSize / patch)²: the class token and the patches. */
    public int tokens() {
        int side = imageSize / patch;
        return 1 + side * side;
    }

    /** The blocks Wan runs: all but the last ({@code use_31_block}). */
    public int usedLayers() {
        return layers - 1;
    }

    /**
     * The config of a checkpoint with these (Wan-named, {@code visual.} stripped) shapes: dim and patch from
     * {@code patch_embedding.weight} [dim, 3, p, p], tokens from {@code pos_embedding} [1, T, dim], the MLP from
     * {@code transformer.0.mlp.0.weight}, the layer count from the highest block; heads = dim / {@link #HEAD_DIM}.
     */
    static ClipVisionConfig infer(Map<String, long[]> shapes, String where) {
        long[] patchW = require(shapes, "patch_embedding.weight", 4, where);
        long[] pos = require(shapes, "pos_embedding", 3, where);
        long[] mlp = require(shapes, "transformer.0.mlp.0.weight", 2, where);
        int dim = (int) patchW[0];
        int patch = (int) patchW[2];
        if (patchW[1] != 3 || patchW[3] != patch) {
            throw new IllegalArgumentException(where + ": patch_embedding.weight is " + java.util.Arrays.toString(patchW)
                + ", expected [dim, 3, p, p]");
        }
        int side = (int) Math.round(Math.sqrt(pos[1] - 1));
        if (side * side + 1 != pos[1] || pos[2] != dim) {
            throw new IllegalArgumentException(where + ": pos_embedding is " + java.util.Arrays.toString(pos)
                + ", expected [1, 1 + n², " + dim + "] (a class token and a square of patches)");
        }
        if (dim % HEAD_DIM != 0) {
            throw new IllegalArgumentException(where + ": width " + dim + " is not a multiple of ViT-H's head width "
                + HEAD_DIM + ": the head count cannot be told from the file");
        }
        int layers = 0;
        while (shapes.containsKey("transformer." + layers + ".attn.to_qkv.weight")) {
            layers++;
        }
        return new ClipVisionConfig(dim, layers, dim / HEAD_DIM, (int) mlp[0], patch, side * patch);
    }

    private static long[] require(Map<String, long[]> shapes, String key, int rank, String where) {
        long[] s = shapes.get(key);
        if (s == null || s.length != rank) {
            throw new IllegalArgumentException(where + ": " + (s == null ? "no " + key : key + " has rank " + s.length
                + ", expected " + rank) + " (a Wan CLIP vision tower: visual.patch_embedding, visual.pos_embedding, "
                + "visual.transformer.N...)");
        }
        return s;
    }
}
