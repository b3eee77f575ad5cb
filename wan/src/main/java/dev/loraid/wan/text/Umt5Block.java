package dev.loraid.wan.text;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.RMSNorm;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanTaps;

/**
 * {@code blocks.i} (upstream {@code T5SelfAttention}, spec vae-t5.md §3 step 2):
 * {@code x += attn(norm1(x), pos_bias + mask)}, then {@code x += ffn(norm2(x))}. The norms are T5's RMS norm
 * ({@code x · rsqrt(mean(x²) + eps) · w}, no mean subtraction, no bias). A UMT5 block owns its position table
 * ({@code pos_embedding}); with {@code shared_pos} the encoder passes the shared bias instead.
 */
final class Umt5Block extends Module {
    private final int index;
    private final RMSNorm norm1;
    private final Umt5Attention attn;
    private final RMSNorm norm2;
    private final Umt5FeedForward ffn;
    private final Umt5RelativeEmbedding posEmbedding;

    Umt5Block(Umt5Config c, int index) {
        this.index = index;
        this.norm1 = registerModule("norm1", RMSNorm.declared(c.dim(), c.eps(), DType.F32));
        this.attn = registerModule("attn", new Umt5Attention(c));
        this.norm2 = registerModule("norm2", RMSNorm.declared(c.dim(), c.eps(), DType.F32));
        this.ffn = registerModule("ffn", new Umt5FeedForward(c));
        this.posEmbedding = c.sharedPos() ? null : registerModule("pos_embedding", new Umt5RelativeEmbedding(c));
    }

    /**
     * Updates the residual stream x [L, dim] (F32) in place. {@code buckets} is the flattened bucket table [L·L],
     * {@code keyMask} [1, 1, L] is 0 on real keys and the most negative float on padded ones (upstream's
     * {@code masked_fill(mask == 0, finfo.min)}: their weight is exactly 0), {@code sharedBias} [H, L, L] or null.
     * {@code kvLengths}: {@code {real}} when the real keys are a prefix, else null ({@link Umt5Attention#forward}).
     * Each sub-block's temporaries are released when its residual add has been copied back.
     */
    void forwardInPlace(Tensor x, Tensor buckets, Tensor keyMask, int[] kvLengths, Tensor sharedBias, WanTaps taps) {
        long len = x.size(0);
        try (MemoryScope s = MemoryScope.open()) {
            Tensor pos = sharedBias != null ? sharedBias : posEmbedding.bias(buckets, len, len);
            taps.put("pos_bias_layer" + index, pos);
            Var xv = Var.constant(x);
            x.backend().copy(xv.add(attn.forward(norm1.forward(xv), pos, keyMask, kvLengths)).data(), x);
        }
        try (MemoryScope s = MemoryScope.open()) {
            Var xv = Var.constant(x);
            x.backend().copy(xv.add(ffn.forward(norm2.forward(xv))).data(), x);
        }
        taps.put("block" + index + "_out", x);
    }
}
