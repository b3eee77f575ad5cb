package dev.loraid.tensor.cpu;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Precision;
import dev.loraid.tensor.Tensor;

/**
 * Entry point for scaled-dot-product attention: checks shapes and picks the kernel: the fp32 flash kernels for
 * any floating dtype and layout (rows are widened into fp32 tiles as they are packed), {@link ExactAttention}
 * (fp64) when every tensor is F64, as the gradient checks need.
 */
final class CpuAttention {
    private CpuAttention() {
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
        if (Precision.fp64(q, k, v, out)) {
            ExactAttention.forward(dims, q, k, v, null, scale, kvLengths, out, lse);
        } else {
            FlashAttention.forward(dims, q, k, v, null, (float) scale, kvLengths, out, lse);
        }
    }

    /**
     * {@code softmax(q·kᵀ·scale + bias)·v}, bias [B, H, Lq, Lk] any strides (T5's relative position bias is one
     * [H, Lq, Lk] table expanded over the batch with stride 0): the bias is read tile by tile into the score tile,
     * no other [Lq, Lk] buffer exists. Forward only.
     */
    static void forwardWithBias(Tensor q, Tensor k, Tensor v, Tensor bias, double scale, int[] kvLengths, Tensor out) {
        Dims dims = check(q, k, v, kvLengths, out);
        Checks.shape(bias, "attention bias", dims.batch(), dims.heads(), dims.lq(), dims.lk());
        if (Precision.fp64(q, k, v, bias, out)) {
            ExactAttention.forward(dims, q, k, v, bias, scale, kvLengths, out, null);
        } else {
            FlashAttention.forward(dims, q, k, v, bias, (float) scale, kvLengths, out, null);
        }
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
        if (Precision.fp64(q, k, v, out, dOut, dq, dk, dv)) {
            ExactAttention.backward(dims, q, k, v, out, dOut, lse, scale, kvLengths, dq, dk, dv);
            return;
        }
        Tensor rowLse = lse;
        if (rowLse == null) { // not kept by the caller: one forward pass recomputes it
            rowLse = Tensor.empty(DType.F32, dims.batch(), dims.heads(), dims.lq());
            FlashAttention.forward(dims, q, k, v, null, (float) scale, kvLengths,
                Tensor.empty(DType.F32, dims.batch(), dims.heads(), dims.lq(), dims.dv()), rowLse);
        }
        CpuFlashAttentionBackward.backward(dims, q, k, v, out, dOut, rowLse, (float) scale, kvLengths, dq, dk, dv);
    }
}
