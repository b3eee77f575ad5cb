package dev.loraid.tensor;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TensorViewTest {
    private static Tensor iota(long... dims) {
        int n = (int) Shape.of(dims).numel();
        float[] d = new float[n];
        for (int i = 0; i < n; i++) {
            d[i] = i;
        }
        return Tensor.of(d, dims);
    }

    /** Only a tensor that is the whole of its storage, contiguous from its start, may have the storage freed under it. */
    @Test
    void spansStorageOnlyForTheWholeContiguousTensor() {
        Tensor t = Tensor.zeros(DType.F32, 4, 6);
        assertTrue(t.spansStorage());
        assertTrue(t.reshape(6, 4).spansStorage(), "a reshape of the whole");
        assertFalse(t.narrow(0, 1, 3).spansStorage(), "rows 1..3");
        assertFalse(t.narrow(0, 0, 3).spansStorage(), "rows 0..2: from the start, not the whole");
        assertFalse(t.transpose(0, 1).spansStorage(), "not contiguous");
        assertTrue(Tensor.zeros(DType.BF16, 5).spansStorage());
    }

    @Test
    void permuteMatchesIndexArithmetic() {
        Tensor t = iota(2, 3, 4);
        Tensor p = t.permute(2, 0, 1);
        assertArrayEquals(new long[] {4, 2, 3}, p.shape().toArray());
        for (int a = 0; a < 2; a++) {
            for (int b = 0; b < 3; b++) {
                for (int c = 0; c < 4; c++) {
                    assertEquals(a * 12 + b * 4 + c, p.getFloat(c, a, b));
                }
            }
        }
        assertFalse(p.isContiguous());
        Tensor pc = p.contiguous();
        assertTrue(pc.isContiguous());
        assertArrayEquals(p.toFloatArray(), pc.toFloatArray());
    }

    @Test
    void viewSplitsAndMergesWhereStridesAllow() {
        Tensor t = iota(4, 6);
        Tensor v = t.view(2, 2, 3, 2);
        assertEquals(t.storage(), v.storage());
        assertArrayEquals(t.toFloatArray(), v.toFloatArray());
        // a transposed tensor cannot merge its dims without a copy, but reshape copies
        Tensor tt = t.transpose(0, 1);
        assertThrows(IllegalArgumentException.class, () -> tt.view(24));
        Tensor r = tt.reshape(24);
        assertEquals(tt.getFloat(5, 3), r.getFloat(5 * 4 + 3));
        // splitting a transposed dim is a legal view
        Tensor split = tt.view(2, 3, 4);
        assertEquals(tt.getFloat(4, 1), split.getFloat(1, 1, 1));
        assertEquals(tt.storage(), split.storage());
        assertArrayEquals(new long[] {6, 4}, t.view(-1, 4).transpose(0, 1).transpose(0, 1).shape().toArray());
    }

    @Test
    void randomViewChainsAgreeWithCopies() {
        Random rnd = new Random(7);
        for (int trial = 0; trial < 200; trial++) {
            Tensor t = iota(3, 4, 5);
            Tensor ref = t;
            for (int step = 0; step < 3; step++) {
                int kind = rnd.nextInt(4);
                if (kind == 0 && t.rank() >= 2) {
                    int a = rnd.nextInt(t.rank());
                    int b = rnd.nextInt(t.rank());
                    t = t.transpose(a, b);
                    ref = ref.contiguous().transpose(a, b);
                } else if (kind == 1 && t.size(0) > 1) {
                    long start = rnd.nextInt((int) t.size(0) - 1);
                    t = t.narrow(0, start, t.size(0) - start);
                    ref = ref.contiguous().narrow(0, start, ref.size(0) - start);
                } else if (kind == 2) {
                    t = t.unsqueeze(1);
                    ref = ref.contiguous().unsqueeze(1);
                } else {
                    t = t.reshape(-1);
                    ref = ref.contiguous().reshape(-1);
                    break;
                }
                assertArrayEquals(ref.toFloatArray(), t.toFloatArray(), "trial " + trial);
            }
        }
    }

    @Test
    void expandBroadcastsWithZeroStride() {
        Tensor row = iota(1, 3);
        Tensor e = row.expand(4, 3);
        assertEquals(0, e.stride(0));
        assertEquals(2f, e.getFloat(3, 2));
        Tensor c = e.contiguous();
        assertEquals(12, c.numel());
        assertEquals(1f, c.getFloat(2, 1));
        assertThrows(IllegalArgumentException.class, () -> iota(2, 3).expand(4, 3));
    }

    @Test
    void copyCastsBetweenDtypes() {
        Tensor t = Tensor.of(new float[] {1.5f, -2.25f, 3.0f, 1e-3f}, 2, 2);
        Tensor b = t.to(DType.BF16);
        assertEquals(DType.BF16, b.dtype());
        assertEquals(-2.25, b.getDouble(0, 1));
        assertEquals(MiniFloats.bf16ToFloat(MiniFloats.floatToBf16(1e-3f)), b.getFloat(1, 1));
        Tensor back = b.to(DType.F64);
        assertEquals(3.0, back.getDouble(1, 0));
        Tensor z = Tensor.zeros(DType.F32, 3);
        assertArrayEquals(new float[3], z.toFloatArray());
    }

    @Test
    void memoryScopeReusesTheSameMemoryEachStep() {
        long reservedAfterFirst = -1;
        for (int step = 0; step < 20; step++) {
            try (MemoryScope s = MemoryScope.open()) {
                for (int i = 0; i < 10; i++) {
                    Tensor.empty(DType.F32, 1024, 1024);
                }
                assertEquals(10L * 4 * 1024 * 1024, s.bytesInUse(Device.CPU));
            }
            long reserved = MemoryScope.bytesReserved(Device.CPU);
            if (step == 0) {
                reservedAfterFirst = reserved;
            }
            assertEquals(reservedAfterFirst, reserved, "step " + step);
        }
    }
}
