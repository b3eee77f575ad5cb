package dev.loraid.autograd.ops;

import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

/** Small shape computations shared by ops. */
final class Shapes {
    private Shapes() {
    }

    /** {@code [D]} for a tensor {@code [..., D]}. */
    static Shape lastDim(Tensor t) {
        return Shape.of(t.size(-1));
    }

    /** Number of rows of a tensor {@code [..., D]} treated as independent rows. */
    static long rows(Tensor t) {
        return t.size(-1) == 0 ? 0 : t.numel() / t.size(-1);
    }
}
