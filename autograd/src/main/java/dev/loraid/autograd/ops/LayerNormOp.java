package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

/**
 * LayerNorm over the last dimension, {@code (x − mean)·rstd·weight + bias}; weight and bias may be null
 * (Wan's non-affine norms). Saves x and the per-row mean/rstd; the backward is the backend's fused kernel.
 */
public final class LayerNormOp extends Node {
    private final Tensor x;
    private final Tensor weight;
    private final Tensor mean;
    private final Tensor rstd;

    private LayerNormOp(Var x, Var weight, Var bias, Tensor mean, Tensor rstd) {
        super(x, weight, bias);
        this.x = x.data();
        this.weight = weight == null ? null : weight.data();
        this.mean = mean;
        this.rstd = rstd;
    }

    public static Var apply(Var x, Var weight, Var bias, double eps) {
        Tensor xd = x.data();
        Tensor wd = weight == null ? null : weight.data();
        Tensor bd = bias == null ? null : bias.data();
        Tensor out = TensorMath.empty(xd, TensorMath.computeType(xd, wd, bd), xd.shape());
        boolean rec = Node.recording(x, weight, bias);
        long rows = Shapes.rows(xd);
        DType stats = TensorMath.statsType(out.dtype());
        Tensor mean = rec ? Tensor.empty(xd.device(), stats, rows) : null;
        Tensor rstd = rec ? Tensor.empty(xd.device(), stats, rows) : null;
        xd.backend().layerNorm(xd, wd, bd, eps, out, mean, rstd);
        return Var.result(out, rec ? new LayerNormOp(x, weight, bias, mean, rstd) : null, x, weight, bias);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        Tensor dx = TensorMath.empty(x, TensorMath.computeType(x, g), x.shape());
        Tensor dw = needs(1) ? TensorMath.empty(x, TensorMath.gradType(weight.dtype()), weight.shape()) : null;
        Tensor db = needs(2) ? TensorMath.empty(x, TensorMath.computeType(x, g), Shapes.lastDim(x)) : null;
        x.backend().layerNormBackward(x, weight, mean, rstd, g, dx, dw, db);
        return new Tensor[] {needs(0) ? dx : null, dw, db};
    }
}
