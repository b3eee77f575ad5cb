package dev.loraid.tensor.safetensors;

import java.io.IOException;

/**
 * A safetensors file (or shard index) that breaks the format: the message names the file, the tensor when one
 * is at fault, and what was expected. An {@link IOException}, so callers handle unreadable and malformed
 * checkpoints in one place.
 */
public final class SafetensorsFormatException extends IOException {
    public SafetensorsFormatException(String source, String tensor, String problem) {
        super(source + (tensor != null ? ": tensor '" + tensor + "'" : "") + ": " + problem);
    }

    public SafetensorsFormatException(String source, String tensor, String problem, Throwable cause) {
        super(source + (tensor != null ? ": tensor '" + tensor + "'" : "") + ": " + problem, cause);
    }
}
