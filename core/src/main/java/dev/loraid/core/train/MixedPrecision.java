package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import java.util.Locale;

/**
 * {@code --mixed_precision} (training.md §3.4). Recorded in the metadata and handed to the model; LoRA weights,
 * gradients and optimizer state are fp32 whatever the choice. The model's half-precision activation rules are not
 * implemented yet, so {@link #BF16} and {@link #FP16} run in fp32 (the trainer says so once).
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

    /** The value as upstream writes it in {@code ss_mixed_precision}. */
    public String flagValue() {
        return name().toLowerCase(Locale.ROOT);
    }
}
