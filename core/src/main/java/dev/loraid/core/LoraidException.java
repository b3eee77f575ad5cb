package dev.loraid.core;

/**
 * A LoRA/LORAID operation failed on bad input (a file, key, shape, ID or flag value): the message names the
 * culprit and what was expected. The CLI maps it to exit code 1; nothing has been written when it is thrown.
 */
public final class LoraidException extends RuntimeException {
    public LoraidException(String message) {
        super(message);
    }

    public LoraidException(String message, Throwable cause) {
        super(message, cause);
    }
}
