package dev.loraid.wan.text;

import java.io.IOException;

/** A tokenizer file that cannot be read as a UMT5/SentencePiece unigram tokenizer; the message names the file. */
public final class TokenizerFileException extends IOException {
    public TokenizerFileException(String message) {
        super(message);
    }

    public TokenizerFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
