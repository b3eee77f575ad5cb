package dev.loraid.core;

/**
 * A request parameter has an invalid value; the message names the parameter in API words ({@link ParameterText}),
 * which a front end may re-spell (the CLI shows its flag).
 */
public final class ParameterException extends IllegalArgumentException {
    private final transient ParameterText text;

    public ParameterException(ParameterText text) {
        super(text.toString());
        this.text = text;
    }

    /** Throws when {@code value} (the parameter {@code api}, null when unset) is given and below 1. */
    public static void requireAtLeastOne(String api, Integer value) {
        if (value != null && value < 1) {
            throw new ParameterException(ParameterText.named(ParameterText.param(api), " must be ≥ 1, got " + value));
        }
    }

    /** The message with its parameters as parts. */
    public ParameterText text() {
        return text;
    }
}
