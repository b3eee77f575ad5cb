package dev.loraid.wan.text;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * SentencePiece's precompiled normalisation table ({@code precompiled_charsmap}, e.g. {@code nmt_nfkc}): a
 * darts-clone double-array trie over UTF-8 byte strings whose leaf values are offsets into a blob of NUL-terminated
 * replacement strings. Blob layout (sentencepiece {@code normalizer.cc DecodePrecompiledCharsMap}): uint32 LE
 * trie size in bytes, the trie (uint32 LE units), then the replacement strings.
 *
 * <p>Two lookups: {@link #longestMatch} is sentencepiece's ({@code Normalizer::NormalizePrefix}: the longest rule
 * that is a prefix of the input); {@link #firstMatch} is HF tokenizers' {@code Precompiled::transform} (the first,
 * i.e. shortest, prefix rule).
 */
public final class PrecompiledCharsmap {
    /** A rule that applies at a position: {@code length} input bytes become {@code replacement} (may be empty). */
    public record Match(int length, String replacement) {
    }

    private final int[] units;
    private final byte[] normalized;

    private PrecompiledCharsmap(int[] units, byte[] normalized) {
        this.units = units;
        this.normalized = normalized;
    }

    /** Decodes a charsmap blob; {@code source} names where it came from for error messages. */
    public static PrecompiledCharsmap decode(byte[] blob, String source) throws TokenizerFileException {
        if (blob.length <= 4) {
            throw new TokenizerFileException(source + ": precompiled_charsmap of " + blob.length + " bytes is too short");
        }
        ByteBuffer b = ByteBuffer.wrap(blob).order(ByteOrder.LITTLE_ENDIAN);
        long trieBytes = Integer.toUnsignedLong(b.getInt(0));
        if (trieBytes >= blob.length - 4L || trieBytes % 4 != 0 || trieBytes == 0) {
            throw new TokenizerFileException(source + ": precompiled_charsmap trie size " + trieBytes
                    + " does not fit the " + blob.length + "-byte blob as whole uint32 units");
        }
        int[] units = new int[(int) (trieBytes / 4)];
        for (int i = 0; i < units.length; i++) {
            units[i] = b.getInt(4 + 4 * i);
        }
        byte[] normalized = new byte[blob.length - 4 - (int) trieBytes];
        System.arraycopy(blob, 4 + (int) trieBytes, normalized, 0, normalized.length);
        return new PrecompiledCharsmap(units, normalized);
    }

    /** The longest rule matching {@code utf8[from..to)} at {@code from}, or null (sentencepiece). */
    public Match longestMatch(byte[] utf8, int from, int to) {
        return search(utf8, from, to, true);
    }

    /** The first (shortest) rule matching at {@code from}, or null (HF tokenizers' {@code Precompiled}). */
    public Match firstMatch(byte[] utf8, int from, int to) {
        return search(utf8, from, to, false);
    }

    // darts-clone DoubleArray::commonPrefixSearch; unit bits: label = u & (1<<31 | 0xFF), has_leaf = bit 8,
    // offset = (u >>> 10) << ((u & 1<<9) >>> 6), value (of the leaf unit) = u & 0x7FFFFFFF.
    private Match search(byte[] key, int from, int to, boolean longest) {
        int nodePos = offset(units[0]);
        Match found = null;
        for (int i = from; i < to; i++) {
            int c = key[i] & 0xFF;
            nodePos ^= c;
            if (nodePos < 0 || nodePos >= units.length) {
                return found;
            }
            int unit = units[nodePos];
            if ((unit & (0x80000000 | 0xFF)) != c) {
                return found;
            }
            nodePos ^= offset(unit);
            if (((unit >>> 8) & 1) == 1) {
                if (nodePos < 0 || nodePos >= units.length) {
                    return found;
                }
                found = new Match(i - from + 1, replacement(units[nodePos] & 0x7FFFFFFF));
                if (!longest) {
                    return found;
                }
            }
        }
        return found;
    }

    private static int offset(int unit) {
        return (unit >>> 10) << ((unit & (1 << 9)) >>> 6);
    }

    private String replacement(int at) {
        if (at >= normalized.length) {
            throw new IllegalStateException("precompiled_charsmap rule points at byte " + at + " past the "
                    + normalized.length + "-byte string table");
        }
        int end = at;
        while (end < normalized.length && normalized[end] != 0) {
            end++;
        }
        return new String(normalized, at, end - at, StandardCharsets.UTF_8);
    }
}
