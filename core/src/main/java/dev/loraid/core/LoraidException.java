package dev.loraid.core;

/**
 * A LoRA/LORAID operation failed on bad input (a file, key, shape, ID or parameter value): the message names the
 * culprit and what was expected. The CLI maps it to exit code 1; nothing has been written when it is thrown.
 */
public final class LoraidException extends RuntimeException {
    private final transient ParameterText parameterText;

    public LoraidException(String message) {
        this(message, (Throwable) null);
    }

    public LoraidException(String message, Throwable cause) {
        super(message, cause);
        this.parameterText = null;
    }

    /** A failure that names request parameters (re-spelled by a front end: {@link ParameterText}). */
    public LoraidException(ParameterText message) {
        this(message, null);
    }

    public LoraidException(ParameterText message, Throwable cause) {
        super(message.toString(), cause);
        this.parameterText = message;
    }

    /** The message with its parameters as parts, or null when it names none. */
    public ParameterText parameterText() {
        return parameterText;
    }
}
