package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import dev.loraid.tensor.DType;
import java.util.Locale;

/**
 * {@code --mixed_precision} (training.md §3.4): the DiT's activation dtype, recorded in the metadata. With fp16 or
 * bf16 the model runs upstream's autocast rules ({@link dev.loraid.wan.WanModel#setActivationDType}: Linear and
 * attention activations in the half dtype with fp32 accumulation; norms, softmax statistics, time embedding,
 * modulation and the residual stream in fp32); {@link #NO} computes everything in fp32. LoRA weights, gradients and
 * optimizer state are fp32 whatever the choice. The default stays upstream's {@code no}. On the CPU bf16 does not pay
 * yet ({@code bench/run train-step --mixed_precision bf16}, bench/RESULTS.md: ~1.1× the fp32-activation step time
 * and 1.18× its activation memory): the CPU GEMM writes a non-F32 output through an F32 temporary and the norms
 * write fp32, so the casts add passes and bytes; use it there to reproduce a GPU bf16 run's numerics.
 */
public enum MixedPrecision {
    NO, FP16, BF16;

    public static MixedPrecision parse(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "no", "fp32", "none" -> NO;
            case "fp16" -> FP16;
            case "bf16" -> BF16;
            default -> throw new ParameterException(named(param("TrainConfig.mixedPrecision"),
                    " must be no, fp16 or bf16, got '" + value + "'"));
        };
    }

    /** The activation dtype the model computes in: F32, F16 or BF16. */
    public DType activationDType() {
        return switch (this) {
            case NO -> DType.F32;
            case FP16 -> DType.F16;
            case BF16 -> DType.BF16;
        };
    }

    /** The value as upstream writes it in {@code ss_mixed_precision}. */
    public String flagValue() {
        return name().toLowerCase(Locale.ROOT);
    }
}
