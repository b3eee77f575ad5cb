package dev.loraid.core.lora;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import java.util.function.Consumer;

/**
 * A frozen weight changed (a LoRA merged into it as the checkpoint loads, or into a file's tensor): the update is
 * computed on an fp32 copy and stored back in the weight's dtype, as a tensor of its own (a checkpoint's mapped weights
 * are read-only) or into the caller's buffer.
 */
public final class WeightUpdate {
    private WeightUpdate() {
    }

    /** A new tensor of {@code w}'s dtype: {@code update} applied to an fp32 copy of {@code w} (which stays as it is). */
    public static Tensor updated(Tensor w, Consumer<Tensor> update) {
        Tensor sum = widened(w, update);
        return sum.dtype() == w.dtype() ? sum : sum.to(w.dtype());
    }

    /** {@code out ← update(fp32 copy of w)}, rounded once into {@code out}'s dtype (a buffer of the caller's). */
    public static void updateInto(Tensor w, Consumer<Tensor> update, Tensor out) {
        Tensor sum = widened(w, update);
        sum.backend().copy(sum, out);
    }

    private static Tensor widened(Tensor w, Consumer<Tensor> update) {
        Tensor sum = w.dtype() == DType.F32 ? w.copy() : w.to(DType.F32);
        update.accept(sum);
        return sum;
    }
}
