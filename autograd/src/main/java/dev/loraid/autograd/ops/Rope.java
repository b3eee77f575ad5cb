package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

/**
 * Rotary embedding on channel pairs (2j, 2j+1) (spec wan.md §2.8), x [..., L, H, D], cos/sin [L, D/2] constants.
 * A rotation is orthogonal, so the backward is the inverse rotation of g.
 */
public final class Rope extends Node {
    private final Tensor cos;
    private final Tensor sin;

    private Rope(Var x, Tensor cos, Tensor sin) {
        super(x);
        this.cos = cos;
        this.sin = sin;
    }

    public static Var apply(Var x, Tensor cos, Tensor sin) {
        return apply(x, cos, sin, null);
    }

    /** @param type the result dtype (a mixed-precision BF16/F16 q or k, rotated in fp32), or null for the rule's */
    public static Var apply(Var x, Tensor cos, Tensor sin, DType type) {
        Tensor xd = x.data();
        Tensor out = TensorMath.empty(xd, type != null ? type : TensorMath.computeType(xd), xd.shape());
        xd.backend().rope(xd, cos, sin, false, out);
        return Var.result(out, Node.recording(x) ? new Rope(x, cos, sin) : null, x);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        Tensor dx = TensorMath.empty(g, TensorMath.computeType(g), g.shape());
        g.backend().rope(g, cos, sin, true, dx);
        return new Tensor[] {dx};
    }
}
