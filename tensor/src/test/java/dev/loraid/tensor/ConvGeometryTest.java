package dev.loraid.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The implicit GEMM's tiling arithmetic shared by the CPU and CUDA convolutions, on one geometry worked by hand:
 * x [2, 3, 4, 5, 6], weight [4, 3, 3, 2, 3], stride (1, 2, 1), padding (2, 0, 1, 0, 1, 1) →
 * To = (4 + 2 − 3) / 1 + 1 = 4, Ho = (5 + 1 − 2) / 2 + 1 = 3, Wo = (6 + 2 − 3) / 1 + 1 = 6, K = 3·3·2·3 = 54.
 */
class ConvGeometryTest {
    private static final int[] STRIDE = {1, 2, 1};
    private static final int[] PAD = {2, 0, 1, 0, 1, 1};

    private static ConvGeometry geometry(Tensor out) {
        return ConvGeometry.of(Tensor.empty(DType.F32, 2, 3, 4, 5, 6), Tensor.empty(DType.F32, 4, 3, 3, 2, 3), null,
            STRIDE, PAD, out);
    }

    @Test
    void sizesAndTileRows() {
        ConvGeometry g = geometry(Tensor.empty(DType.F32, 2, 4, 4, 3, 6));
        assertEquals(4, g.to());
        assertEquals(3, g.ho());
        assertEquals(6, g.wo());
        assertEquals(54, g.k());
        assertEquals(12, g.rows());
        assertEquals(1, g.rowsPerTile(1), "at least one row");
        assertEquals(5, g.rowsPerTile(54 * 6 * 5), "five [54, 6] row blocks");
        assertEquals(5, g.rowsPerTile(54 * 6 * 6 - 1), "whole rows only");
        assertEquals(12, g.rowsPerTile(1L << 40), "never more than the sample's rows");
    }

    @Test
    void aTileIsTheOutputMatrixOfItsRows() {
        Tensor out = Tensor.empty(DType.F32, 2, 4, 4, 3, 6);
        ConvGeometry g = geometry(out);
        assertTrue(g.positionsMerge(out));
        Tensor sample = out.select(0, 1); // offset 4·4·3·6 = 288, strides [72, 18, 6, 1]
        // rows 4..8: row 4 is frame 4 / 3 = 1, output row 4 % 3 = 1 → 288 + 18 + 6
        Tensor tile = g.tile(sample, 4, 5);
        assertArrayEquals(new long[] {4, 30}, tile.shape().toArray());
        assertArrayEquals(new long[] {72, 1}, tile.strides());
        assertEquals(312, tile.offset());
        // (To, Ho, Wo) with the last two swapped in memory do not flatten to one stride
        Tensor swapped = Tensor.empty(DType.F32, 2, 4, 4, 6, 3).transpose(3, 4);
        assertFalse(g.positionsMerge(swapped));
    }

    @Test
    void channelViewsSpreadAVectorOverChannels() {
        Tensor vector = Tensor.empty(DType.F32, 4, 2).select(1, 1); // stride 2, offset 1
        Tensor keep = ConvGeometry.channelView(vector);
        assertArrayEquals(new long[] {1, 4, 1, 1, 1}, keep.shape().toArray());
        assertArrayEquals(new long[] {0, 2, 0, 0, 0}, keep.strides());
        assertEquals(1, keep.offset());
        Tensor spread = ConvGeometry.channelView(vector, 2, 4, 4, 3, 6);
        assertArrayEquals(new long[] {2, 4, 4, 3, 6}, spread.shape().toArray());
        assertArrayEquals(new long[] {0, 2, 0, 0, 0}, spread.strides());
    }

    @Test
    void badShapesNameWhatWasExpected() {
        var e = assertThrows(IllegalArgumentException.class, () -> geometry(Tensor.empty(DType.F32, 2, 4, 4, 3, 5)));
        assertTrue(e.getMessage().contains("gives out [2, 4, 4, 3, 6]"), e.getMessage());
        var b = assertThrows(IllegalArgumentException.class, () -> ConvGeometry.ofBackward(
            Tensor.empty(DType.F32, 2, 3, 4, 5, 6), Tensor.empty(DType.F32, 4, 3, 3, 2, 3),
            Tensor.empty(DType.F32, 2, 4, 4, 3, 6), STRIDE, PAD, null, Tensor.empty(DType.F32, 4, 3, 3, 3, 2), null));
        assertTrue(b.getMessage().contains("dWeight has shape [4, 3, 3, 3, 2], expected [4, 3, 3, 2, 3]"), b.getMessage());
        assertEquals(-1, ConvGeometry.ceilDiv(-3, 2));
        assertEquals(2, ConvGeometry.ceilDiv(3, 2));
    }
}
