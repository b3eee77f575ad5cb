package dev.loraid.wan.text;

/** SentencePiece's {@code ModelProto.SentencePiece.Type} (proto field 3 of a piece; numbers are the proto's). */
public enum PieceType {
    NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

    /** The type for its proto number (1..6); 0 or others are an error. */
    static PieceType of(long number) {
        if (number < 1 || number > 6) {
            throw new IllegalArgumentException("unknown SentencePiece piece type " + number);
        }
        return values()[(int) number - 1];
    }
}
