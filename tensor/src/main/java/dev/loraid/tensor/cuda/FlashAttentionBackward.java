package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

import java.util.Set;

/**
 * The FLASH path's backward kernel (attention_flash_backward.cu): which calls it takes, its name and its launch
 * geometry. A block of {@link #THREADS} threads owns {@link #KEYS} keys of one (batch, head) and walks the query
 * tiles of {@link #QUERIES}; K, V, two stages of Q and dO (rows padded by 16 bytes), dSᵀ, and two stages of lse and
 * delta live in shared memory.
 */
final class FlashAttentionBackward {
    static final int KEYS = 128;
    static final int QUERIES = 64;
    static final int THREADS = 256;
    static final Set<Long> HEAD_DIMS = Set.of(64L, 128L);

    private FlashAttentionBackward() {
    }

    /**
     * Whether the FLASH kernels take these operands: all BF16 or all F16, one head dim D shared by all and
     * instantiated ({@link #HEAD_DIMS}), every row unit-stride and starting on a 16-byte boundary (rows are copied
     * by 16-byte cp.async).
     */
    static boolean takes(Tensor... operands) {
        DType t = operands[0].dtype();
        long d = operands[0].size(3);
        if ((t != DType.BF16 && t != DType.F16) || !HEAD_DIMS.contains(d)) {
            return false;
        }
        for (Tensor x : operands) {
            if (x.rank() != 4 || x.dtype() != t || x.size(3) != d || !rowsAligned16(x)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether every row (last dimension) of a 16-bit [B, H, L, D] view is unit-stride and starts on a 16-byte
     * boundary: first element aligned, and the strides of the outer dimensions that have more than one index
     * multiples of 8 elements.
     */
    static boolean rowsAligned16(Tensor t) {
        long first = t.storage().segment().address() + t.offset() * t.dtype().byteSize();
        if (t.stride(3) != 1 || first % 16 != 0) {
            return false;
        }
        for (int i = 0; i < 3; i++) {
            if (t.size(i) > 1 && t.stride(i) % 8 != 0) {
                return false;
            }
        }
        return true;
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
