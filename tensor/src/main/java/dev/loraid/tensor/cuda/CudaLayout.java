package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The kernels' {@code struct Layout} (loraid_common.cuh): 8 sizes, 8 strides (elements), rank, dtype code —
 * 136 bytes, 8-aligned. Also the dimension coalescing that lets a contiguous elementwise op run as rank 1.
 */
final class CudaLayout {
    static final int MAX_DIMS = 8;
    static final long BYTES = 8L * MAX_DIMS * 2 + 8;

    private CudaLayout() {
    }

    /** The kernels' dtype code: DType's declaration order, checked against the header by CudaSourcesTest. */
    static int code(DType t) {
        return t.ordinal();
    }

    /** Packs sizes/strides/dtype into a Layout struct allocated in {@code arena}. */
    static MemorySegment pack(Arena arena, long[] sizes, long[] strides, DType dtype) {
        if (sizes.length > MAX_DIMS) {
            throw new IllegalArgumentException("CUDA kernels take at most " + MAX_DIMS + " dimensions after merging, got "
                + Arrays.toString(sizes));
        }
        MemorySegment s = arena.allocate(BYTES, 8);
        for (int i = 0; i < sizes.length; i++) {
            s.setAtIndex(ValueLayout.JAVA_LONG, i, sizes[i]);
            s.setAtIndex(ValueLayout.JAVA_LONG, MAX_DIMS + i, strides[i]);
        }
        s.set(ValueLayout.JAVA_INT, 8L * MAX_DIMS * 2, sizes.length);
        s.set(ValueLayout.JAVA_INT, 8L * MAX_DIMS * 2 + 4, code(dtype));
        return s;
    }

    static MemorySegment pack(Arena arena, Tensor t) {
        return pack(arena, t.shape().toArray(), t.strides(), t.dtype());
    }

    /**
     * Merges dimensions that every operand walks contiguously together and drops size-1 dimensions, so the
     * kernels' index arithmetic runs over as few dimensions as possible. All operands share {@code dims}.
     *
     * @param strides one stride array per operand (each of {@code dims.length})
     * @return row 0: the merged sizes; rows 1..: each operand's merged strides
     */
    static long[][] coalesce(long[] dims, long[]... strides) {
        int ops = strides.length;
        long[] d = new long[dims.length];
        long[][] s = new long[ops][dims.length];
        int n = 0;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == 1) {
                continue;
            }
            boolean merge = n > 0;
            for (int k = 0; k < ops && merge; k++) {
                merge = s[k][n - 1] == strides[k][i] * dims[i];
            }
            if (merge) {
                d[n - 1] *= dims[i];
                for (int k = 0; k < ops; k++) {
                    s[k][n - 1] = strides[k][i];
                }
            } else {
                d[n] = dims[i];
                for (int k = 0; k < ops; k++) {
                    s[k][n] = strides[k][i];
                }
                n++;
            }
        }
        long[][] out = new long[ops + 1][];
        out[0] = Arrays.copyOf(d, n);
        for (int k = 0; k < ops; k++) {
            out[k + 1] = Arrays.copyOf(s[k], n);
        }
        return out;
    }
}
