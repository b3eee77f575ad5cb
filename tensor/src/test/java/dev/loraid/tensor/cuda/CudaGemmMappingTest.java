package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The row-major → cuBLASLt column-major mapping, checked by replaying it: element (i, j) of the row-major view
 * must sit where cuBLASLt reads element (j, i) of op(stored matrix).
 */
class CudaGemmMappingTest {
    /** Offset at which cuBLASLt reads row r, column c of op(stored). */
    private static long cublasOffset(CudaGemm.Operand o, long r, long c) {
        // op(stored) = stored (OP_N) or storedᵀ (OP_T); stored is column-major with leading dimension ld
        long sr = o.op() == CuBlasLt.OP_N ? r : c;
        long sc = o.op() == CuBlasLt.OP_N ? c : r;
        return sr + sc * o.ld();
    }

    private static void checkTransposed(long rows, long cols, long sr, long sc) {
        CudaGemm.Operand o = CudaGemm.transposedOperand(rows, cols, sr, sc);
        for (long i = 0; i < rows; i++) {
            for (long j = 0; j < cols; j++) {
                assertEquals(i * sr + j * sc, cublasOffset(o, j, i), "element (" + i + ", " + j + ") of [" + rows + ", "
                    + cols + "] strides (" + sr + ", " + sc + ") via " + o);
            }
        }
    }

    @Test
    void rowMajorTransposedAndPaddedViewsMapExactly() {
        checkTransposed(3, 5, 5, 1);    // contiguous
        checkTransposed(3, 5, 8, 1);    // padded rows (a narrow of a wider tensor)
        checkTransposed(3, 5, 1, 3);    // a transposed view (w.transpose(0, 1))
        checkTransposed(3, 5, 1, 7);    // transposed and padded
        checkTransposed(1, 5, 123, 1);  // one row: its stride is irrelevant
        checkTransposed(4, 1, 1, 99);   // one column
        checkTransposed(1, 1, 0, 0);
    }

    @Test
    void viewsWithoutAUnitStrideAreRejected() {
        assertNull(CudaGemm.transposedOperand(3, 5, 10, 2));
        assertNull(CudaGemm.transposedOperand(3, 5, 2, 0));
        assertNull(CudaGemm.transposedOperand(3, 5, 3, 1)); // overlapping rows (ld < cols)
    }

    @Test
    void operandTypesWidenAsTheContractSays() {
        assertEquals(DType.BF16, CudaGemm.operandType(DType.BF16, DType.BF16));
        assertEquals(DType.BF16, CudaGemm.operandType(DType.BF16, DType.F8_E4M3));
        assertEquals(DType.F16, CudaGemm.operandType(DType.F16, DType.F8_E5M2));
        assertEquals(DType.F32, CudaGemm.operandType(DType.F32, DType.BF16));
        assertEquals(DType.F32, CudaGemm.operandType(DType.BF16, DType.F64));
        assertTrue(CudaGemm.outputOk(DType.BF16, DType.F32));
        assertFalse(CudaGemm.outputOk(DType.F32, DType.BF16));
        assertFalse(CudaGemm.outputOk(DType.BF16, DType.F16));
    }

    @Test
    void alignmentIsTheLargestPowerOfTwoDividingEveryStep() {
        assertEquals(256, CudaGemm.alignment(0x10000, 4096, 1024, new long[] {128}, 2));
        assertEquals(128, CudaGemm.alignment(0x10000, 4096, 1024, new long[] {64}, 2));
        assertEquals(2, CudaGemm.alignment(0x10002, 4096, 1024, new long[0], 2));
        assertEquals(16, CudaGemm.alignment(0x10000, 4096, 80, new long[0], 2));
        assertEquals(2, CudaGemm.alignment(0x10000, 0, 1024, new long[] {3, 4}, 2)); // an odd outer stride (3 elements)
    }
}
