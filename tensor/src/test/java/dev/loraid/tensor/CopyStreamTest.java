package dev.loraid.tensor;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CPU's {@link CopyStream}: copies at once both ways, the host tensor is its own pinned copy, bad pairs are named. */
class CopyStreamTest {
    @Test
    void synchronousStreamCopiesAtOnce() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor b = Tensor.of(new float[] {7, 8}, 2);
        Tensor da = Tensor.zeros(DType.F32, 2, 3);
        Tensor db = Tensor.zeros(DType.F32, 2);
        CopyStream copies = Backends.cpu().copyStream();
        assertSame(a, copies.pinned(a));
        copies.copyAfterCompute(List.of(a, b), List.of(da, db)); // no fence to wait for: already there
        assertArrayEquals(a.toFloatArray(), da.toFloatArray());
        assertArrayEquals(b.toFloatArray(), db.toFloatArray());
        Tensor back = copies.hostBuffer(DType.F32, 2, 3);
        assertTrue(back.device().isCpu());
        copies.copyToHostAfterCompute(List.of(da), List.of(back));
        assertArrayEquals(a.toFloatArray(), back.toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> copies.copyToHostAfterCompute(List.of(da), List.of(db)),
                "a destination of another shape");
    }

    @Test
    void mismatchedPairsAreNamed() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        CopyStream copies = CopyStream.SYNCHRONOUS;
        IllegalArgumentException count = assertThrows(IllegalArgumentException.class,
                () -> copies.copyAfterCompute(List.of(a), List.of()));
        assertTrue(count.getMessage().contains("1 host tensors for 0 device tensors"), count.getMessage());
        IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                () -> copies.copyAfterCompute(List.of(a, a), List.of(Tensor.zeros(DType.F32, 2, 3), Tensor.zeros(DType.BF16, 2, 3))));
        assertTrue(dtype.getMessage().startsWith("copy 1:"), dtype.getMessage());
        IllegalArgumentException strided = assertThrows(IllegalArgumentException.class,
                () -> CopyStream.checkPairs(List.of(a.transpose(0, 1)), List.of(Tensor.zeros(DType.F32, 3, 2)), true));
        assertTrue(strided.getMessage().startsWith("copy 0:") && strided.getMessage().contains("both contiguous"),
                strided.getMessage());
        Tensor t = Tensor.zeros(DType.F32, 3, 2); // a strided host view is fine where copies are plain copies
        copies.copyAfterCompute(List.of(a.transpose(0, 1)), List.of(t));
        assertArrayEquals(a.transpose(0, 1).contiguous().toFloatArray(), t.toFloatArray());
    }
}
