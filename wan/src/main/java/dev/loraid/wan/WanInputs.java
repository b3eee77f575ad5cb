package dev.loraid.wan;

import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;

import java.util.Arrays;
import java.util.Collection;
import java.util.Set;

/**
 * The inputs of one DiT call (spec wan.md §2.0), batch 1.
 *
 * @param x       latent [in_dim, F, H, W], or [out_dim, F, H, W] when {@code y} is given separately
 * @param t       timestep on the 0..1000 scale: [1], or per token [L] (Wan 2.2, §2.4)
 * @param context text encoder output [L_txt ≤ text_len, text_dim], unpadded
 * @param y       I2V conditioning [in_dim − out_dim, F, H, W] concatenated after x along channels, or null
 * @param clip    CLIP tokens [257 or 514, 1280] for the 2.1 image branch, or null
 * @param skipBlocks indices of transformer blocks the call skips (skip-layer guidance, training.md §6.4: upstream's
 *                   {@code skip_block_indices}); empty for a normal call
 * @param framePositions each latent frame's RoPE position (upstream's {@code f_indices}, one-frame inference), or null
 *                       for 0..F-1
 */
public record WanInputs(Tensor x, Tensor t, Tensor context, Tensor y, Tensor clip, Set<Integer> skipBlocks,
                        int[] framePositions) {

    public WanInputs {
        skipBlocks = skipBlocks == null ? Set.of() : Set.copyOf(skipBlocks);
        framePositions = framePositions == null ? null : framePositions.clone();
    }

    /** A call that runs every block, its frames at positions 0..F-1. */
    public WanInputs(Tensor x, Tensor t, Tensor context, Tensor y, Tensor clip) {
        this(x, t, context, y, clip, Set.of(), null);
    }

    public static WanInputs of(Tensor x, Tensor t, Tensor context) {
        return new WanInputs(x, t, context, null, null);
    }

    /** These inputs with the blocks {@code blocks} skipped (their residual stream passes through unchanged). */
    public WanInputs withSkippedBlocks(Collection<Integer> blocks) {
        return new WanInputs(x, t, context, y, clip, Set.copyOf(blocks), framePositions);
    }

    /** These inputs with their latent frames at the RoPE positions {@code positions} (null: 0..F-1). */
    public WanInputs withFramePositions(int[] positions) {
        return new WanInputs(x, t, context, y, clip, skipBlocks, positions);
    }

    /**
     * These inputs on {@code device}: x, context, y and clip are copied there when elsewhere (from the current memory
     * scope); t stays where it is, the model reads its few values on the host.
     */
    public WanInputs to(Device device) {
        return new WanInputs(on(x, device), t, on(context, device), on(y, device), on(clip, device), skipBlocks,
                framePositions);
    }

    private static Tensor on(Tensor t, Device device) {
        return t == null || t.device().equals(device) ? t : t.to(device);
    }

    /** Latent channels after concatenating y. */
    public long channels() {
        return x.size(0) + (y == null ? 0 : y.size(0));
    }

    /** The token grid (f, h, w) after patchifying. */
    public int[] grid(WanConfig c) {
        return new int[] {(int) (x.size(1) / c.patchT()), (int) (x.size(2) / c.patchH()), (int) (x.size(3) / c.patchW())};
    }

    /** Tokens after patchifying. */
    public int tokens(WanConfig c) {
        int[] g = grid(c);
        return g[0] * g[1] * g[2];
    }

    /**
     * Checks every shape against the config; the message names the input, its shape and what was expected
     * ({@code source} names the file they came from).
     */
    public void validate(WanConfig c, String source) {
        if (x.rank() != 4) {
            throw bad(source, "x has shape " + x.shape() + ": expected [channels, frames, height, width]");
        }
        if (channels() != c.inDim()) {
            throw bad(source, "x" + (y == null ? "" : " + y") + " has " + channels() + " channels: the model expects in_dim "
                    + c.inDim() + (c.inDim() > c.outDim() && y == null ? " (noise " + c.outDim() + " + conditioning "
                    + (c.inDim() - c.outDim()) + ": give y or concatenate it into x)" : ""));
        }
        int[] patch = {c.patchT(), c.patchH(), c.patchW()};
        String[] axis = {"frames", "height", "width"};
        for (int i = 0; i < 3; i++) {
            if (x.size(i + 1) % patch[i] != 0) {
                throw bad(source, "x has shape " + x.shape() + ": latent " + axis[i] + " " + x.size(i + 1)
                        + " is not a multiple of the patch size " + patch[i] + " (patch " + Arrays.toString(patch) + ")");
            }
        }
        if (y != null && (y.rank() != 4 || y.size(1) != x.size(1) || y.size(2) != x.size(2) || y.size(3) != x.size(3))) {
            throw bad(source, "y has shape " + y.shape() + ": expected [" + (c.inDim() - c.outDim()) + ", " + x.size(1)
                    + ", " + x.size(2) + ", " + x.size(3) + "] to match x");
        }
        int tokens = tokens(c);
        boolean perToken = t.rank() == 1 && t.size(0) == tokens && tokens != 1;
        if (!(t.numel() == 1 && t.rank() <= 1) && !(perToken && c.perTokenTime())) {
            throw bad(source, "t has shape " + t.shape() + ": expected [1]" + (c.perTokenTime()
                    ? " or one timestep per token [" + tokens + "]" : " (per-token timesteps need a Wan 2.2 model)"));
        }
        if (context.rank() != 2 || context.size(1) != c.textDim() || context.size(0) > c.textLen()) {
            throw bad(source, "context has shape " + context.shape() + ": expected [L ≤ " + c.textLen() + ", "
                    + c.textDim() + "]");
        }
        if (framePositions != null && framePositions.length != x.size(1) / c.patchT()) {
            throw bad(source, framePositions.length + " frame positions " + Arrays.toString(framePositions) + " for "
                    + x.size(1) / c.patchT() + " latent frames");
        }
        for (int b : skipBlocks) {
            if (b < 0 || b >= c.numLayers()) {
                throw bad(source, "skipped block " + b + " does not exist: the model has blocks 0.." + (c.numLayers() - 1));
            }
        }
        if (c.imageBranch() && !(c.funControl() && clip == null)) { // T2V Fun-Control runs without CLIP tokens
            long want = (c.imagePositions() ? 2L : 1L) * WanConfig.CLIP_TOKENS;
            if (clip == null || clip.rank() != 2 || clip.size(0) != want || clip.size(1) != WanConfig.CLIP_DIM) {
                throw bad(source, "clip_fea " + (clip == null ? "is missing" : "has shape " + clip.shape())
                        + ": the model's image branch expects [" + want + ", " + WanConfig.CLIP_DIM + "]");
            }
        } else if (clip != null) {
            throw bad(source, "clip_fea is given but the model has no image branch (" + c.modelType() + ")");
        }
    }

    private static IllegalArgumentException bad(String source, String what) {
        return new IllegalArgumentException((source == null ? "" : source + ": ") + what);
    }
}
