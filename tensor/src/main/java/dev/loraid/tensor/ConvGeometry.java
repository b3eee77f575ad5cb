package dev.loraid.tensor;

import java.util.Arrays;

/**
 * The sizes of one {@link Backend#conv3d} / {@link Backend#conv3dBackward} call, checked, and the implicit GEMM's
 * tiling shared by every backend: the output positions of one sample are cut into tiles of whole flattened output
 * rows ((output frame, output row) pairs), a tile's input patches are packed into a [K, P] column block
 * (K = I·kt·kh·kw in the weight's order, P = rows·Wo) and multiplied by the weight seen as [O, K].
 *
 * <p>x [N, I, T, H, W], weight [O, I, kt, kh, kw], out [N, O, To, Ho, Wo] with
 * {@code To = (T + front + back − kt) / st + 1} (likewise H, W); padding = {front, back, top, bottom, left, right}.
 */
public record ConvGeometry(int n, int i, int t, int h, int w, int o, int kt, int kh, int kw, int k, int st, int sh,
                           int sw, int front, int top, int left, int to, int ho, int wo) {

    /** The checked geometry of a forward call (bias null or [O]). */
    public static ConvGeometry of(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding, Tensor out) {
        if (x.rank() != 5 || weight.rank() != 5 || out.rank() != 5) {
            throw new IllegalArgumentException("conv3d: expected x [N, I, T, H, W], weight [O, I, kt, kh, kw], "
                + "out [N, O, To, Ho, Wo]; got x " + x.shape() + ", weight " + weight.shape() + ", out " + out.shape());
        }
        if (stride.length != 3 || padding.length != 6) {
            throw new IllegalArgumentException("conv3d: stride needs 3 values (t, h, w) and padding 6 (front, back, "
                + "top, bottom, left, right); got " + stride.length + " and " + padding.length);
        }
        for (int s : stride) {
            if (s < 1) {
                throw new IllegalArgumentException("conv3d: stride " + Arrays.toString(stride) + " must be ≥ 1");
            }
        }
        for (int p : padding) {
            if (p < 0) {
                throw new IllegalArgumentException("conv3d: padding " + Arrays.toString(padding) + " must be ≥ 0");
            }
        }
        int[] xd = ints(x);
        int[] wd = ints(weight);
        if (wd[1] != xd[1]) {
            throw new IllegalArgumentException("conv3d: weight " + weight.shape() + " takes " + wd[1]
                + " input channels, x " + x.shape() + " has " + xd[1]);
        }
        int to = outSize(xd[2], padding[0] + padding[1], wd[2], stride[0]);
        int ho = outSize(xd[3], padding[2] + padding[3], wd[3], stride[1]);
        int wo = outSize(xd[4], padding[4] + padding[5], wd[4], stride[2]);
        long[] expect = {xd[0], wd[0], to, ho, wo};
        if (to < 1 || ho < 1 || wo < 1 || !Arrays.equals(out.shape().toArray(), expect)) {
            throw new IllegalArgumentException("conv3d: x " + x.shape() + " with weight " + weight.shape() + ", stride "
                + Arrays.toString(stride) + ", padding " + Arrays.toString(padding)
                + " gives out " + Arrays.toString(expect) + ", got out " + out.shape());
        }
        if (bias != null && (bias.rank() != 1 || bias.size(0) != wd[0])) {
            throw new IllegalArgumentException("conv3d: bias " + bias.shape() + ", expected [" + wd[0] + "]");
        }
        return new ConvGeometry(xd[0], xd[1], xd[2], xd[3], xd[4], wd[0], wd[2], wd[3], wd[4],
            Math.multiplyExact(Math.multiplyExact(wd[1], wd[2]), Math.multiplyExact(wd[3], wd[4])),
            stride[0], stride[1], stride[2], padding[0], padding[2], padding[4], to, ho, wo);
    }

    /** The checked geometry of a backward call: dOut as the forward's out; dx, dWeight, dBias null or shaped right. */
    public static ConvGeometry ofBackward(Tensor x, Tensor weight, Tensor dOut, int[] stride, int[] padding, Tensor dx,
                                          Tensor dWeight, Tensor dBias) {
        ConvGeometry g = of(x, weight, null, stride, padding, dOut);
        if (dx != null && !dx.shape().equals(x.shape())) {
            throw new IllegalArgumentException("conv3dBackward dx has shape " + dx.shape() + ", expected " + x.shape());
        }
        if (dWeight != null && !dWeight.shape().equals(weight.shape())) {
            throw new IllegalArgumentException("conv3dBackward dWeight has shape " + dWeight.shape() + ", expected "
                + weight.shape());
        }
        if (dBias != null && (dBias.rank() != 1 || dBias.size(0) != g.o)) {
            throw new IllegalArgumentException("conv3dBackward: dBias " + dBias.shape() + ", expected [" + g.o + "]");
        }
        return g;
    }

    private static int outSize(int in, int pad, int k, int s) {
        return in + pad < k ? 0 : (in + pad - k) / s + 1;
    }

    private static int[] ints(Tensor t) {
        int[] d = new int[5];
        for (int i = 0; i < 5; i++) {
            d[i] = Math.toIntExact(t.size(i));
        }
        return d;
    }

    /** Flattened output rows (To·Ho) of one sample. */
    public long rows() {
        return (long) to * ho;
    }

    /** Rows per tile: as many [K, Wo] row blocks as {@code tileElements} holds, at least one, at most all. */
    public int rowsPerTile(long tileElements) {
        return (int) Math.max(1, Math.min(rows(), tileElements / ((long) k * wo)));
    }

    /** Whether the output positions (To, Ho, Wo) of {@code out} flatten to one stride, so a tile is a strided matrix. */
    public boolean positionsMerge(Tensor out) {
        return out.stride(2) == (long) ho * out.stride(3) && out.stride(3) == (long) wo * out.stride(4);
    }

    /**
     * The [O, rows·Wo] matrix of flattened output rows [r0, r0 + rows) of {@code sample} (one sample's [O, To, Ho, Wo],
     * positions merging: {@link #positionsMerge}), a view sharing its storage.
     */
    public Tensor tile(Tensor sample, long r0, int rows) {
        long off = sample.offset() + (r0 / ho) * sample.stride(1) + (r0 % ho) * sample.stride(2);
        return new Tensor(sample.storage(), sample.dtype(), Shape.of(o, (long) rows * wo),
            new long[] {sample.stride(0), sample.stride(3)}, off);
    }

    /**
     * [O] seen as [1, O, 1, 1, 1] (stride 0 elsewhere), sharing its storage: dBias as the keepdim output of the sum of
     * dOut over N, T, H, W, or a bias broadcast over an output of {@code dims} when those are given.
     */
    public static Tensor channelView(Tensor vector, long... dims) {
        long[] shape = dims.length == 0 ? new long[] {1, vector.size(0), 1, 1, 1} : dims;
        return new Tensor(vector.storage(), vector.dtype(), Shape.of(shape), new long[] {0, vector.stride(0), 0, 0, 0},
            vector.offset());
    }

    /** ⌈a / b⌉ for b > 0, any sign of a. */
    public static int ceilDiv(int a, int b) {
        return -Math.floorDiv(-a, b);
    }
}
