package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Which calls the FLASH forward takes (CudaAttention.flashKernel), decided on the host from dtypes, head dims and
 * row alignment — no GPU needed: CPU storage is 64-byte aligned as device storage is 512-byte aligned, and the
 * predicate only reads addresses, offsets and strides.
 */
class FlashEligibilityTest {
    /** A [B, H, L, D] view of [B, L, H, D] memory (the models' layout). */
    private static Tensor blhd(DType t, long b, long h, long l, long d) {
        return Tensor.zeros(t, b, l, h, d).permute(0, 2, 1, 3);
    }

    @Test
    void takesBf16AndF16AtTheInstantiatedHeadDimsInTheModelsLayout() {
        Tensor q = blhd(DType.BF16, 1, 40, 77, 128);
        assertEquals("attention_flash_forward_bf16_d128", CudaAttention.flashKernel(q, q, q));
        Tensor h = blhd(DType.F16, 2, 3, 5, 64);
        assertEquals("attention_flash_forward_f16_d64", CudaAttention.flashKernel(h, h, h));
        assertEquals(AttentionPath.FLASH, CudaAttention.resolve(AttentionPath.FLASH, q, q, q, null));
        assertEquals(AttentionPath.FLASH, CudaAttention.resolve(AttentionPath.AUTO, h, h, h, new int[] {0, 5}));
    }

    @Test
    void otherDtypesAndHeadDimsFallBackToTheMmaOrScalarKernels() {
        Tensor d32 = blhd(DType.BF16, 1, 2, 9, 32);
        assertNull(CudaAttention.flashKernel(d32, d32, d32), "D = 32 is not instantiated");
        assertEquals(AttentionPath.MMA, CudaAttention.resolve(AttentionPath.FLASH, d32, d32, d32, null));
        Tensor q = blhd(DType.BF16, 1, 2, 9, 64);
        Tensor v = blhd(DType.BF16, 1, 2, 9, 128);
        assertNull(CudaAttention.flashKernel(q, q, v), "D != Dv");
        Tensor f32 = blhd(DType.F32, 1, 2, 9, 64);
        assertEquals(AttentionPath.SCALAR, CudaAttention.resolve(AttentionPath.FLASH, f32, f32, f32, null));
        Tensor mixed = blhd(DType.F16, 1, 2, 9, 64);
        assertNull(CudaAttention.flashKernel(q, mixed, mixed), "BF16 q with F16 k, v");
    }

    @Test
    void rowsMustBeUnitStrideAndStartOn16Bytes() {
        assertTrue(CudaAttention.rowsAligned16(blhd(DType.BF16, 2, 3, 5, 64)));
        // offset of one element: the first row starts 2 bytes past a 64-byte boundary
        Tensor shifted = Tensor.zeros(DType.BF16, 1, 2, 9, 65).narrow(3, 1, 64);
        assertFalse(CudaAttention.rowsAligned16(shifted));
        assertEquals(AttentionPath.MMA, CudaAttention.resolve(AttentionPath.FLASH, shifted, shifted, shifted, null));
        // offset of 8 elements (16 bytes) but a row stride of 76 elements (152 bytes): row 1 is misaligned
        Tensor oddRows = Tensor.zeros(DType.BF16, 1, 2, 9, 76).narrow(3, 8, 64);
        assertFalse(CudaAttention.rowsAligned16(oddRows));
        Tensor aligned = Tensor.zeros(DType.BF16, 1, 2, 9, 72).narrow(3, 8, 64);
        assertTrue(CudaAttention.rowsAligned16(aligned));
        // D not unit-stride (the transposed [B, H, D, L] memory)
        Tensor transposed = Tensor.zeros(DType.BF16, 1, 2, 64, 16).transpose(2, 3);
        assertFalse(CudaAttention.rowsAligned16(transposed));
        // the stride of a size-1 dimension is never multiplied by a nonzero index
        Tensor base = Tensor.zeros(DType.BF16, 4, 64);
        Tensor oddOuter = new Tensor(base.storage(), DType.BF16, Shape.of(1, 1, 4, 64), new long[] {3, 5, 64, 1}, 0);
        assertTrue(CudaAttention.rowsAligned16(oddOuter));
        Tensor oddHeads = new Tensor(base.storage(), DType.BF16, Shape.of(1, 2, 2, 64), new long[] {256, 60, 128, 1}, 0);
        assertFalse(CudaAttention.rowsAligned16(oddHeads), "head stride 60 elements = 120 bytes");
    }
}
