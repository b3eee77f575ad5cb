package dev.loraid.bench.gpu;

import dev.loraid.wan.RopeTables;
import dev.loraid.wan.WanConfig;

/**
 * The shapes of one Wan DiT block step (spec: Wan 2.1 14B has dim 5120, 40 heads of 128, ffn 13824; 480p × 81 frames
 * is 21 × 30 × 52 = 32,760 latent tokens; the text context is 512 tokens of dim 5120 after the text embedding).
 */
public record WanBlockConfig(int dim, int heads, int ffn, int tokens, int textTokens, int rank, double loraAlpha) {
    public static WanBlockConfig wan14b() {
        return new WanBlockConfig(5120, 40, 13824, 21 * 30 * 52, 512, 32, 32);
    }

    /** Small enough for a CPU smoke run. */
    public static WanBlockConfig tiny() {
        return new WanBlockConfig(64, 4, 160, 37, 11, 4, 4);
    }

    /** A one-block Wan 2.1 model of these shapes (text_len = the text tokens); only its block is loaded and run. */
    public WanConfig wanConfig() {
        return new WanConfig("2.1", 1, 2, 2, 16, 16, dim, ffn, heads, 1, 4096, 256, textTokens, 1e-6, false, false);
    }

    /**
     * A latent token grid (frames, height, width) of {@link #tokens()} for the RoPE tables: 21 × 30 × 52 at 480p × 81
     * frames; otherwise 21 frames (or 1) and the most nearly square height × width.
     */
    public int[] grid() {
        if (tokens == 21 * 30 * 52) {
            return new int[] {21, 30, 52};
        }
        int f = tokens % 21 == 0 ? 21 : 1;
        int rest = tokens / f;
        int h = (int) Math.sqrt(rest);
        while (rest % h != 0) {
            h--;
        }
        int w = rest / h;
        if (w > RopeTables.MAX_POSITION) {
            throw new IllegalArgumentException("--tokens " + tokens + " makes a grid " + f + "x" + h + "x" + w
                    + " wider than RoPE's " + RopeTables.MAX_POSITION + " positions: pick a multiple of 21");
        }
        return new int[] {f, h, w};
    }

    public int headDim() {
        return dim / heads;
    }

    /** LoRA output scale alpha / rank. */
    public double loraScale() {
        return loraAlpha / rank;
    }

    /** FLOPs of the block's base GEMMs, forward + backward (input gradients only: the base weights are frozen). */
    public double gemmFlops() {
        double l = tokens;
        double c = dim;
        double forward = 2 * l * c * c * 4            // self-attention q, k, v, o
            + 2 * l * c * c * 2 + 2.0 * textTokens * c * c * 2   // cross-attention q, o and k, v
            + 2 * l * c * ffn * 2;                    // ffn in, out
        double backward = forward - 2.0 * textTokens * c * c * 2; // no gradient flows into the text context
        return forward + backward;
    }

    /** FLOPs of the attention products: self (Lq = Lk = tokens) and cross (Lk = textTokens); backward is 2.5x. */
    public double attentionFlops() {
        double fwd = 4.0 * tokens * tokens * dim + 4.0 * tokens * textTokens * dim;
        return fwd * 3.5;
    }

    public double selfAttentionForwardFlops() {
        return 4.0 * tokens * tokens * dim;
    }
}
