package dev.loraid.autograd.ops;

import dev.loraid.autograd.Node;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

/** Dtype cast (a contiguous copy). The gradient passes through, in the input's gradient dtype. */
public final class Cast extends Node {
    private final DType inType;

    private Cast(Var x) {
        super(x);
        this.inType = x.dtype();
    }

    public static Var apply(Var x, DType type) {
        Tensor out = x.data().to(type);
        return Var.result(out, Node.recording(x) ? new Cast(x) : null, x);
    }

    @Override
    protected Tensor[] backward(Tensor g) {
        DType want = TensorMath.gradType(inType);
        return new Tensor[] {g.dtype() == want ? g : TensorMath.cast(g, want)};
    }
}
