package dev.loraid.wan.vae;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.BackendOp;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

/**
 * AttentionBlock(C) (spec vae-t5.md §1.2): frame by frame, RMS_norm, 1×1 qkv conv, single-head softmax attention
 * over the H·W pixels (row-major) with scale 1/sqrt(C), 1×1 proj, plus the input. All frames of a chunk go to the
 * attention op as its batch dimension: q/k/v are [T, 1, H·W, C] views of the qkv output, nothing is transposed in
 * memory. A backend whose fused attention does not take C gets it composed ({@link #composedAttention}).
 */
record VaeAttentionBlock(String name, Tensor gamma, Tensor qkvWeight, Tensor qkvBias, Tensor projWeight,
                         Tensor projBias) implements VaeLayer {

    static VaeAttentionBlock load(VaeWeights w, String p) {
        return new VaeAttentionBlock(p, w.gamma(p + ".norm.gamma"), w.tensor(p + ".to_qkv.weight"),
            w.tensor(p + ".to_qkv.bias"), w.tensor(p + ".proj.weight"), w.tensor(p + ".proj.bias"));
    }

    @Override
    public Tensor forward(Tensor x, FeatureCache cache) {
        long c = x.size(0);
        long t = x.size(1);
        long hw = x.size(2) * x.size(3);
        Tensor qkv = VaeOps.conv1x1(VaeOps.rmsNorm(x, gamma), qkvWeight, qkvBias); // [3C, T, H, W] contiguous
        Tensor out = VaeOps.empty(x.device(), t, 1, hw, c);
        Tensor q = heads(qkv, 0, c);
        Tensor k = heads(qkv, 1, c);
        Tensor v = heads(qkv, 2, c);
        Backend be = x.backend();
        if (be.supports(BackendOp.ATTENTION, q, k, v, out, null)) {
            be.attention(q, k, v, 1 / Math.sqrt(c), null, out, null);
        } else {
            composedAttention(be, q, k, v, 1 / Math.sqrt(c), out);
        }
        // out [T, 1, HW, C] read back as [C, T, H, W]
        Tensor o = new Tensor(out.storage(), out.dtype(), Shape.of(c, t, x.size(2), x.size(3)),
            new long[] {1, hw * c, x.size(3) * c, c}, out.offset());
        Tensor y = VaeOps.conv1x1(o, projWeight, projBias);
        x.backend().binary(BinaryOp.ADD, y, x, y);
        return y;
    }

    /**
     * softmax(q·kᵀ·scale)·v frame by frame from matmul and softmax, for a backend whose fused attention does not take
     * the head dim C (CUDA's kernels stop at 256; the real VAE's middle blocks have 384 channels): one [H·W, H·W]
     * score and probability matrix at a time (156 MiB each in fp32 at 480×832 pixels, H·W = 60·104).
     */
    static void composedAttention(Backend be, Tensor q, Tensor k, Tensor v, double scale, Tensor out) {
        long hw = q.size(2);
        Tensor scores = VaeOps.empty(q.device(), hw, hw);
        Tensor probs = VaeOps.empty(q.device(), hw, hw);
        for (long f = 0; f < q.size(0); f++) {
            Tensor kf = k.select(0, f).select(0, 0);
            be.matmul(q.select(0, f).select(0, 0), kf.transpose(0, 1), scores, scale, 0, null);
            be.softmax(scores, probs);
            be.matmul(probs, v.select(0, f).select(0, 0), out.select(0, f).select(0, 0), 1, 0, null);
        }
    }

    /** Channels [part·C, (part+1)·C) of qkv [3C, T, H, W] as [T, 1, H·W, C]. */
    private static Tensor heads(Tensor qkv, int part, long c) {
        long t = qkv.size(1);
        long hw = qkv.size(2) * qkv.size(3);
        return new Tensor(qkv.storage(), qkv.dtype(), Shape.of(t, 1, hw, c), new long[] {hw, t * hw, 1, t * hw},
            qkv.offset() + part * c * t * hw);
    }
}
