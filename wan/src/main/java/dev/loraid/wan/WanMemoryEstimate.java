package dev.loraid.wan;

import java.util.Locale;

/**
 * What one no-grad forward pass of this implementation needs at a video size (spec wan.md §1.2 latent sizes,
 * §6.2 token counts): the weights (memory-mapped: resident as they are read) plus the fp32 activations — those
 * that live through the whole call and the largest working set of one sub-block (self-attention, cross-attention
 * or FFN), which {@link WanModel#forward(WanInputs)} releases as each sub-block ends. Counts mirror the code; a
 * single timestep per call is assumed (per-token timesteps add six [L, D] rows of modulation per sub-block).
 */
public record WanMemoryEstimate(int frames, int height, int width, long latentFrames, long tokens, long weightBytes,
                                long persistentBytes, long subBlockBytes) {
    private static final long F32 = 4;
    /** [L, D] temporaries of each sub-block in WanBlock (norm, modulation, projections, RoPE, attention, gate). */
    private static final int SELF_ATTN_ROWS = 15;
    private static final int CROSS_ATTN_ROWS = 7;
    private static final int FFN_ROWS = 6;
    /** [L, F] temporaries of the FFN (ffn.0 output and its GELU). */
    private static final int FFN_WIDE_ROWS = 2;

    /**
     * @param vaeStride (t, h, w) of the VAE that makes the latent: {4, 8, 8} for Wan 2.1's, {4, 16, 16} for TI2V-5B's
     * @throws IllegalArgumentException naming the size when it does not map onto whole latents and patches
     */
    public static WanMemoryEstimate of(WanConfig c, int[] vaeStride, int width, int height, int frames,
                                       long weightBytes) {
        long sh = (long) vaeStride[1] * c.patchH();
        long sw = (long) vaeStride[2] * c.patchW();
        if (frames < 1 || (frames - 1) % vaeStride[0] != 0 || height % sh != 0 || width % sw != 0) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "%dx%d, %d frames: expected width and height "
                    + "multiples of %d and %d and frames = %d·k + 1", width, height, frames, sw, sh, vaeStride[0]));
        }
        long latentFrames = (frames - 1) / vaeStride[0] + 1;
        long hl = height / vaeStride[1];
        long wl = width / vaeStride[2];
        long tokens = (latentFrames / c.patchT()) * (hl / c.patchH()) * (wl / c.patchW());
        long row = tokens * c.dim() * F32;
        long persistent = row                                            // residual stream
                + tokens * (long) c.inDim() * c.patchVolume() * F32      // patch-embedding operand
                + (long) c.inDim() * latentFrames * hl * wl * F32        // the latent itself
                + 2L * tokens * (c.headDim() / 2) * Double.BYTES         // RoPE cos and sin (float64)
                + 3L * c.textLen() * c.dim() * F32 + 8L * c.dim() * F32; // context, time embeddings
        long ffn = FFN_ROWS * row + FFN_WIDE_ROWS * tokens * c.ffnDim() * F32;
        long cross = CROSS_ATTN_ROWS * row + 5L * c.textLen() * c.dim() * F32;
        long sub = Math.max(SELF_ATTN_ROWS * row, Math.max(cross, ffn));
        return new WanMemoryEstimate(frames, height, width, latentFrames, tokens, weightBytes, persistent, sub);
    }

    public long activationBytes() {
        return persistentBytes + subBlockBytes;
    }

    public long totalBytes() {
        return weightBytes + activationBytes();
    }
}
