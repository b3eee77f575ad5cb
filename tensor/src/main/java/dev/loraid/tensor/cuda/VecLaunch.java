package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

/**
 * Whether an elementwise call can take the vectorized kernels of loraid_vec.cuh (8 elements per thread, 16-byte
 * accesses), and the mode of each operand. It can when the output is contiguous, every input (already expanded to
 * the output's shape and coalesced with it) is contiguous ({@code FULL}), a row vector repeated along the rows
 * ({@code ROW}: stride 1 in the last dimension, 0 elsewhere) or one value ({@code SCALAR}), the element count and
 * row length are multiples of 8, and every 8-element group starts 16-byte aligned.
 */
record VecLaunch(int[] modes, long rowLen) {
    static final int FULL = 0;
    static final int ROW = 1;
    static final int SCALAR = 2;
    static final int WIDTH = 8;

    /**
     * The modes of {@code ins} for output {@code out}, or null when the strided kernels must run.
     *
     * @param dims     the coalesced dimensions of the call
     * @param strides  the coalesced strides of each input, then of the output
     * @param pointers the device address of each input, then of the output
     */
    static VecLaunch of(long[] dims, long[][] strides, Tensor[] tensors, long[] pointers) {
        int nIn = tensors.length - 1;
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        long rowLen = dims.length == 0 ? 1 : dims[dims.length - 1];
        if (n % WIDTH != 0 || !rowMajor(dims, strides[nIn]) || !aligned(tensors[nIn].dtype(), pointers[nIn])) {
            return null;
        }
        int[] modes = new int[nIn];
        for (int i = 0; i < nIn; i++) {
            long[] s = strides[i];
            if (rowMajor(dims, s)) {
                modes[i] = FULL;
            } else if (allZero(s, s.length)) {
                modes[i] = SCALAR;
            } else if (s.length >= 2 && s[s.length - 1] == 1 && allZero(s, s.length - 1) && rowLen % WIDTH == 0) {
                modes[i] = ROW;
            } else {
                return null;
            }
            if (modes[i] != SCALAR && !aligned(tensors[i].dtype(), pointers[i])) {
                return null;
            }
        }
        return new VecLaunch(modes, rowLen);
    }

    /** The float formats that convert exactly through fp32 (the vector kernels' math type). */
    static boolean floatExact(DType t) {
        return t == DType.F32 || t == DType.BF16 || t == DType.F16;
    }

    private static boolean rowMajor(long[] dims, long[] strides) {
        long expect = 1;
        for (int d = dims.length - 1; d >= 0; d--) {
            if (dims[d] != 1 && strides[d] != expect) {
                return false;
            }
            expect *= dims[d];
        }
        return true;
    }

    private static boolean allZero(long[] s, int upTo) {
        for (int i = 0; i < upTo; i++) {
            if (s[i] != 0) {
                return false;
            }
        }
        return true;
    }

    /** 16-byte groups for 2- and 4-byte types (the ones read with vector loads); other types load per element. */
    private static boolean aligned(DType t, long pointer) {
        long bytes = t.byteSize();
        return bytes != 2 && bytes != 4 || pointer % 16 == 0;
    }
}
