package dev.loraid.bench.gpu;

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
