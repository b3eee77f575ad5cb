package dev.loraid.core.lora;

import dev.loraid.autograd.Parameter;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import java.util.function.Consumer;

/**
 * A frozen weight changed in place of the model (a LoRA merged into it at load): the update is computed on an fp32 copy
 * and stored back in the weight's dtype as a tensor of its own (a checkpoint's mapped weights are read-only).
 */
public final class WeightUpdate {
    private WeightUpdate() {
    }

    /** {@code weight ← cast(update(fp32 copy of weight))}. */
    public static void apply(Parameter weight, Consumer<Tensor> update) {
        Tensor w = weight.data();
        Tensor sum = w.dtype() == DType.F32 ? w.copy() : w.to(DType.F32);
        update.accept(sum);
        weight.adopt(sum.dtype() == w.dtype() ? sum : sum.to(w.dtype()));
    }
}
