package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.Tensor;

/** RMSNorm over the last dimension, {@code x·rstd·weight} (weight may be null). Saves x and the per-row rstd. */
public final class RmsNormOp extends Node {
    private final Tensor x;
    private final Tensor weight;
    private final Tensor rstd;

    private RmsNormOp(Var x, Var weight, Tensor rstd) {
        super(x, weight);
        this.x = x.data();
        this.weight = weight == null ? null : weight.data();
        this.rstd = rstd;
    }

    public static Var apply(Var x, Var weight, double eps) {
        Tensor xd = x.data();
        Tensor wd = weight == null ? null : weight.data();
        Tensor out = TensorMath.empty(xd, TensorMath.computeType(xd, wd), xd.shape());
        boolean rec = Node.recording(x, weight);
        Tensor rstd = rec ? Tensor.empty(xd.device(), TensorMath.statsType(out.dtype()), Shapes.rows(xd)) : null;
        xd.backend().rmsNorm(xd, wd, eps, out, rstd);
        return Var.result(out, rec ? new RmsNormOp(x, weight, rstd) : null, x, weight);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        Tensor dx = TensorMath.empty(x, TensorMath.computeType(x, g), x.shape());
        Tensor dw = needs(1) ? TensorMath.empty(x, TensorMath.gradType(weight.dtype()), weight.shape()) : null;
        x.backend().rmsNormBackward(x, weight, rstd, g, dx, dw);
        return new Tensor[] {needs(0) ? dx : null, dw};
    }
}
