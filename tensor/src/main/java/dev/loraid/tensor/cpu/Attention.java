package dev.loraid.tensor.cpu;

import dev.loraid.tensor.Tensor;

/**
 * Entry point for scaled-dot-product attention: checks shapes and picks the kernel. The flash kernels take fp32
 * math with F32/BF16/F16 q, k, v whose head dimension is contiguous (the usual permuted [B, L, H, D] views);
 * all-F64 calls (gradient checks) and any other layout go to {@link ExactAttention}.
 */
final class Attention {
    private Attention() {
    }

    /** Sizes shared by the forward and backward kernels. */
    record Dims(int batch, int heads, int lq, int lk, int d, int dv) {
        /** Valid keys for batch b: kvLengths[b] clamped to [0, lk], or lk when there is no mask. */
        int keys(int[] kvLengths, int b) {
            return kvLengths == null ? lk : Math.max(0, Math.min(lk, kvLengths[b]));
        }
    }

    static Dims check(Tensor q, Tensor k, Tensor v, int[] kvLengths, Tensor out) {
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4 || out.rank() != 4) {
            throw new IllegalArgumentException("attention expects rank-4 [B, H, L, D] tensors, got q " + q.shape()
                + ", k " + k.shape() + ", v " + v.shape() + ", out " + out.shape());
        }
        int b = (int) q.size(0);
        int h = (int) q.size(1);
        int lq = (int) q.size(2);
        int d = (int) q.size(3);
        int lk = (int) k.size(2);
        int dv = (int) v.size(3);
        Checks.shape(k, "attention k", b, h, lk, d);
        Checks.shape(v, "attention v", b, h, lk, dv);
        Checks.shape(out, "attention out", b, h, lq, dv);
        if (kvLengths != null && kvLengths.length != b) {
            throw new IllegalArgumentException("attention kvLengths has " + kvLengths.length + " entries, expected " + b + " (one per batch)");
        }
        return new Dims(b, h, lq, lk, d, dv);
    }

    static void forward(Tensor q, Tensor k, Tensor v, double scale, int[] kvLengths, Tensor out, Tensor lse) {
        Dims dims = check(q, k, v, kvLengths, out);
        if (lse != null) {
            Checks.shape(lse, "attention lse", dims.batch(), dims.heads(), dims.lq());
        }
        ExactAttention.forward(dims, q, k, v, scale, kvLengths, out, lse);
    }

    static void backward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor dOut, Tensor lse, double scale,
                         int[] kvLengths, Tensor dq, Tensor dk, Tensor dv) {
        Dims dims = check(q, k, v, kvLengths, out);
        Checks.sameShape(out, dOut, "attention dOut");
        Checks.sameShape(q, dq, "attention dq");
        Checks.sameShape(k, dk, "attention dk");
        Checks.sameShape(v, dv, "attention dv");
        if (lse != null) {
            Checks.shape(lse, "attention lse", dims.batch(), dims.heads(), dims.lq());
        }
        ExactAttention.backward(dims, q, k, v, out, dOut, lse, scale, kvLengths, dq, dk, dv);
    }
}
