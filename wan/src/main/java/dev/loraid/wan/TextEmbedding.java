package dev.loraid.wan;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;

/**
 * {@code text_embedding} (spec wan.md §2.5): the context is zero-padded to text_len rows, then
 * Linear → GELU(tanh) → Linear runs on every row. The padded rows become non-zero through the biases and
 * cross-attention attends to them all: no mask (pitfall 9).
 */
final class TextEmbedding {
    private final WanConfig config;
    private final WanLinear embed0;
    private final WanLinear embed2;

    TextEmbedding(WanWeights w, WanConfig c) {
        this.config = c;
        this.embed0 = new WanLinear(w, "text_embedding.0", c.textDim(), c.dim());
        this.embed2 = new WanLinear(w, "text_embedding.2", c.dim(), c.dim());
    }

    /** context [L ≤ text_len, text_dim] → [text_len, D]. */
    Tensor forward(Tensor context, WanTaps taps) {
        Tensor padded = Tensor.zeros(context.device(), DType.F32, config.textLen(), config.textDim());
        context.backend().copy(context, padded.narrow(0, 0, context.size(0)));
        Tensor out = embed2.forward(WanOps.unary(UnaryOp.GELU_TANH, embed0.forward(padded)));
        taps.put("context_emb", out);
        return out;
    }
}
