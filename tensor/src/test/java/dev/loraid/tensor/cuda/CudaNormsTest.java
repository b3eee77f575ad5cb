package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Which norm calls can keep their rows in registers, decided on the host (no GPU needed). */
class CudaNormsTest {
    @Test
    void rowStrideOfEvenlySpacedUnitStrideRows() {
        assertEquals(64, CudaNorms.rowStride(Tensor.zeros(DType.BF16, 2, 3, 64)));                 // contiguous
        assertEquals(72, CudaNorms.rowStride(Tensor.zeros(DType.BF16, 5, 72).narrow(1, 8, 64)));   // padded rows
        assertEquals(64, CudaNorms.rowStride(Tensor.zeros(DType.BF16, 1, 64)));                    // one row
        assertEquals(-1, CudaNorms.rowStride(Tensor.zeros(DType.BF16, 64, 5).transpose(0, 1)));   // strided elements
        // [B, L, H, D] seen as [B, H, L, D]: rows are unit-stride but not evenly spaced across the heads
        assertEquals(-1, CudaNorms.rowStride(Tensor.zeros(DType.BF16, 2, 7, 3, 16).permute(0, 2, 1, 3)));
    }
}
