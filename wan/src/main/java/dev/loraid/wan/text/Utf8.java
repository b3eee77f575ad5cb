package dev.loraid.wan.text;

import java.nio.charset.StandardCharsets;

/** UTF-8 helpers shared by the normalisers and the lattice. */
final class Utf8 {
    private Utf8() {
    }

    /** Bytes of the character whose first byte is {@code b} (sentencepiece {@code OneCharLen}; 1 for stray bytes). */
    static int charLength(byte b) {
        int u = b & 0xFF;
        if (u < 0xC0) {
            return 1;
        }
        if (u < 0xE0) {
            return 2;
        }
        return u < 0xF0 ? 3 : 4;
    }

    static int byteLength(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }
}
