package dev.loraid.bench.djl;

import ai.djl.ndarray.NDArray;
import dev.loraid.wan.WanConfig;

/**
 * The Wan block's building blocks in PyTorch NDArray ops, shared by the DJL twins of the wan-block, train-step and
 * generate benchmarks: plain LayerNorm, RMSNorm over the full width, the head split, RoPE on (real, imag) channel pairs,
 * softmax attention and GELU (tanh).
 */
final class DjlWanOps {
    private static final double GELU_C = 0.7978845608028654;

    private DjlWanOps() {
    }

    /** LayerNorm over the last axis, no affine. */
    static NDArray layerNorm(NDArray x, WanConfig c) {
        NDArray centred = x.sub(x.mean(new int[] {-1}, true));
        return centred.div(centred.square().mean(new int[] {-1}, true).add(c.eps()).sqrt());
    }

    /** RMSNorm over the last axis with {@code weight}. */
    static NDArray rms(NDArray x, NDArray weight, WanConfig c) {
        return x.div(x.square().mean(new int[] {-1}, true).add(c.eps()).sqrt()).mul(weight);
    }

    /** [N, D] → [N, H, d]. */
    static NDArray split(NDArray x, WanConfig c) {
        return x.reshape(x.getShape().get(0), c.numHeads(), c.headDim());
    }

    /** x [L, H, d]: channels (2j, 2j+1) of each head are (real, imag) of pair j, rotated by cos/sin [L, 1, d/2]. */
    static NDArray rope(NDArray x, NDArray cos, NDArray sin, WanConfig c) {
        long tokens = x.getShape().get(0);
        NDArray pairs = x.reshape(tokens, c.numHeads(), c.headDim() / 2, 2);
        NDArray re = pairs.get("..., 0");
        NDArray im = pairs.get("..., 1");
        NDArray outRe = re.mul(cos).sub(im.mul(sin));
        NDArray outIm = re.mul(sin).add(im.mul(cos));
        return outRe.stack(outIm, -1).reshape(tokens, c.numHeads(), c.headDim());
    }

    /** q [Lq, H, d], k and v [Lk, H, d] → [Lq, H·d]. */
    static NDArray attention(NDArray q, NDArray k, NDArray v, WanConfig c) {
        NDArray p = q.transpose(1, 0, 2).matMul(k.transpose(1, 2, 0)).mul(1 / Math.sqrt(c.headDim())).softmax(-1);
        return p.matMul(v.transpose(1, 0, 2)).transpose(1, 0, 2).reshape(q.getShape().get(0), c.dim());
    }

    static NDArray gelu(NDArray x) {
        NDArray inner = x.add(x.pow(3).mul(0.044715)).mul(GELU_C);
        return x.mul(inner.tanh().add(1)).mul(0.5);
    }
}
