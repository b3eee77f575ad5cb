package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The attention path chosen for a call, on the host (no GPU needed). */
class AttentionPathTest {
    private static Tensor heads(DType t, long l, long d) {
        return Tensor.zeros(t, 1, l, 2, d).permute(0, 2, 1, 3);
    }

    @Test
    void autoPrefersCudnnThenTheKernelsByWhatTheyTake() {
        Tensor q = heads(DType.BF16, 9, 128);
        assertEquals(AttentionPath.CUDNN, CudaAttention.resolve(AttentionPath.AUTO, q, q, q, null));
        // a key mask: cuDNN is not asked (padding masks are not wired), the FLASH kernel takes it
        assertEquals(AttentionPath.FLASH, CudaAttention.resolve(AttentionPath.AUTO, q, q, q, new int[] {4}));
        Tensor d32 = heads(DType.BF16, 9, 32);
        assertEquals(AttentionPath.MMA, CudaAttention.resolve(AttentionPath.AUTO, d32, d32, d32, new int[] {4}));
        Tensor f32 = heads(DType.F32, 9, 128);
        assertEquals(AttentionPath.SCALAR, CudaAttention.resolve(AttentionPath.AUTO, f32, f32, f32, null));
        // an explicit path is honoured where it can take the call, and falls back where it cannot
        assertEquals(AttentionPath.MMA, CudaAttention.resolve(AttentionPath.MMA, q, q, q, null));
        Tensor d24 = heads(DType.BF16, 9, 24);
        assertEquals(AttentionPath.SCALAR, CudaAttention.resolve(AttentionPath.MMA, d24, d24, d24, null));
    }

    @Test
    void keyLengthsThatCoverEveryKeyMaskNothing() {
        assertNull(CudaAttention.masking(new int[] {512, 600}, 512));
        assertArrayEquals(new int[] {512, 7}, CudaAttention.masking(new int[] {512, 7}, 512));
        assertNull(CudaAttention.masking(null, 5));
    }

    @Test
    void thePropertyNamesAPath() {
        String old = System.getProperty(AttentionPath.PROPERTY);
        try {
            System.setProperty(AttentionPath.PROPERTY, "Flash");
            assertEquals(AttentionPath.FLASH, AttentionPath.fromProperty());
            System.setProperty(AttentionPath.PROPERTY, "fastest");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, AttentionPath::fromProperty);
            assertEquals("-Dloraid.cuda.attention=fastest: expected auto, cudnn, flash, mma or scalar", e.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty(AttentionPath.PROPERTY);
            } else {
                System.setProperty(AttentionPath.PROPERTY, old);
            }
        }
    }
}
