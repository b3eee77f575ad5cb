package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

/**
 * The FLASH path's backward kernel (attention_flash_backward.cu): which calls it takes, its name and its launch
 * geometry. A block of {@link #THREADS} threads owns {@link #KEYS} keys of one (batch, head) and walks the query
 * tiles of {@link #QUERIES}; K, V, two stages of Q and dO (rows padded by 16 bytes), dSᵀ, and two stages of lse and
 * delta live in shared memory.
 */
final class CudaFlashAttentionBackward {
    static final int KEYS = 128;
    static final int QUERIES = 64;
    static final int THREADS = 256;

    private CudaFlashAttentionBackward() {
    }

    /**
     * Whether the FLASH backward takes a call: the FLASH forward's operands ({@link CudaAttention#flashKernel}), and
     * dO in their dtype and head dim with 16-byte aligned unit-stride rows (it is copied by 16-byte cp.async too).
     */
    static boolean takes(Tensor q, Tensor k, Tensor v, Tensor dOut) {
        return CudaAttention.flashKernel(q, k, v) != null && dOut.dtype() == q.dtype() && dOut.size(3) == q.size(3)
            && CudaAttention.rowsAligned16(dOut);
    }

    /** The kernel for operands {@link #takes} accepts. */
    static String kernel(Tensor q) {
        return "attention_flash_backward_" + (q.dtype() == DType.BF16 ? "bf16" : "f16") + "_d" + q.size(3);
    }

    /** Dynamic shared memory of one block at head dim d (the layout at the top of attention_flash_backward.cu). */
    static int sharedBytes(long d) {
        long tiles = (2L * KEYS + 4L * QUERIES) * (d + 8) * 2;  // K, V, 2 × Q, 2 × dO
        long dsT = (long) KEYS * (QUERIES + 8) * 2;
        long lseDelta = 4L * QUERIES * 4;
        return Math.toIntExact(tiles + dsT + lseDelta);
    }
}
