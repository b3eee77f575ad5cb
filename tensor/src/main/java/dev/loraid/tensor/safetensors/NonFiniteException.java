package dev.loraid.tensor.safetensors;

import java.io.IOException;

/**
 * A tensor about to be written holds NaN or ±Inf: {@link SafetensorsWriter} refuses it before the output is
 * committed (nothing appears at the output path), unless writing was allowed with
 * {@link SafetensorsWriter#ALLOW_NON_FINITE}.
 */
public final class NonFiniteException extends IOException {
    public NonFiniteException(String message) {
        super(message);
    }
}
