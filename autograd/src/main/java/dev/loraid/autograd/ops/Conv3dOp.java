package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

/**
 * 3-D convolution (cross-correlation, as PyTorch's {@code conv3d}) of x [N, I, T, H, W] with weight
 * [O, I, kt, kh, kw] and an optional bias [O], through the backend's implicit GEMM ({@code Backend#conv3d});
 * stride {t, h, w}, zero padding {front, back, top, bottom, left, right}. A 2-D convolution is the kt = 1 case
 * (x [N, I, 1, H, W]). Saves x and weight; the backward is {@code Backend#conv3dBackward}.
 */
public final class Conv3dOp extends Node {
    private final Tensor x;
    private final Tensor weight;
    private final int[] stride;
    private final int[] padding;

    private Conv3dOp(Var x, Var weight, Var bias, int[] stride, int[] padding) {
        super(x, weight, bias);
        this.x = x.data();
        this.weight = weight.data();
        this.stride = stride;
        this.padding = padding;
    }

    public static Var apply(Var x, Var weight, Var bias, int[] stride, int[] padding) {
        Tensor xd = x.data();
        Tensor wd = weight.data();
        Tensor bd = bias == null ? null : bias.data();
        if (xd.rank() != 5 || wd.rank() != 5 || stride.length != 3 || padding.length != 6) {
            throw new IllegalArgumentException("conv3d: x " + xd.shape() + ", weight " + wd.shape() + ", stride "
                + java.util.Arrays.toString(stride) + ", padding " + java.util.Arrays.toString(padding)
                + ": expected x [N, I, T, H, W], weight [O, I, kt, kh, kw], 3 strides, 6 paddings");
        }
        long[] out = new long[5];
        out[0] = xd.size(0);
        out[1] = wd.size(0);
        for (int d = 0; d < 3; d++) {
            out[2 + d] = Math.floorDiv(xd.size(2 + d) + padding[2 * d] + padding[2 * d + 1] - wd.size(2 + d), stride[d]) + 1;
        }
        Tensor o = Tensor.empty(xd.device(), TensorMath.computeType(xd, wd, bd), out);
        xd.backend().conv3d(xd, wd, bd, stride, padding, o);
        boolean rec = Node.recording(x, weight, bias);
        return Var.result(o, rec ? new Conv3dOp(x, weight, bias, stride.clone(), padding.clone()) : null, x, weight, bias);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        Tensor dx = needs(0) ? TensorMath.empty(x, TensorMath.computeType(x, g), x.shape()) : null;
        Tensor dw = needs(1) ? TensorMath.empty(x, TensorMath.gradType(weight.dtype()), weight.shape()) : null;
        Tensor db = needs(2) ? TensorMath.empty(x, TensorMath.computeType(x, g), Shape.of(weight.size(0))) : null;
        x.backend().conv3dBackward(x, weight, g, stride, padding, dx, dw, db);
        return new Tensor[] {dx, dw, db};
    }
}
