package dev.loraid.tensor.json;

/** Malformed JSON, or JSON beyond the parser's limits; the message gives the character offset. */
public final class JsonFormatException extends RuntimeException {
    private final long offset;

    public JsonFormatException(String message, long offset) {
        super(message + " at character " + offset);
        this.offset = offset;
    }

    /** Character offset in the input where the problem was found. */
    public long offset() {
        return offset;
    }
}
