package dev.loraid.wan.text;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * SentencePiece's own normaliser ({@code normalizer.cc Normalizer::Normalize}, version 0.1.97), as the slow
 * tokenizer of a {@code spiece.model} runs it: at each position the longest user-defined piece, else the longest
 * {@link PrecompiledCharsmap} rule, else one UTF-8 character; leading, trailing and repeated spaces removed
 * ({@code remove_extra_whitespaces}); the dummy prefix "▁" ({@code add_dummy_prefix}); spaces escaped to "▁"
 * ({@code escape_whitespaces}). Works on UTF-8 bytes like upstream.
 */
final class SpmNormalizer {
    static final String SPACE_SYMBOL = "\u2581";
    private static final byte[] SPACE_SYMBOL_UTF8 = SPACE_SYMBOL.getBytes(StandardCharsets.UTF_8);

    private final PrecompiledCharsmap charsmap; // null: no rules (empty charsmap)
    private final List<byte[]> userDefined;
    private final boolean addDummyPrefix;
    private final boolean removeExtraWhitespaces;
    private final boolean escapeWhitespaces;
    private final boolean treatWhitespaceAsSuffix;

    SpmNormalizer(PrecompiledCharsmap charsmap, List<String> userDefined, boolean addDummyPrefix,
                  boolean removeExtraWhitespaces, boolean escapeWhitespaces, boolean treatWhitespaceAsSuffix) {
        this.charsmap = charsmap;
        this.userDefined = userDefined.stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
        this.addDummyPrefix = addDummyPrefix;
        this.removeExtraWhitespaces = removeExtraWhitespaces;
        this.escapeWhitespaces = escapeWhitespaces;
        this.treatWhitespaceAsSuffix = treatWhitespaceAsSuffix;
    }

    String normalize(String text) {
        byte[] in = text.getBytes(StandardCharsets.UTF_8);
        int pos = 0;
        if (removeExtraWhitespaces) {
            while (pos < in.length) {
                PrecompiledCharsmap.Match p = prefix(in, pos);
                if (!p.replacement().equals(" ")) {
                    break;
                }
                pos += p.length();
            }
        }
        if (pos == in.length) {
            return "";
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(in.length * 3);
        if (!treatWhitespaceAsSuffix && addDummyPrefix) {
            addSpace(out);
        }
        boolean prevSpace = removeExtraWhitespaces;
        while (pos < in.length) {
            PrecompiledCharsmap.Match p = prefix(in, pos);
            byte[] sp = p.replacement().getBytes(StandardCharsets.UTF_8);
            int start = 0;
            if (prevSpace) {
                while (start < sp.length && sp[start] == ' ') {
                    start++;
                }
            }
            if (start < sp.length) {
                for (int i = start; i < sp.length; i++) {
                    if (sp[i] == ' ') {
                        addSpace(out);
                    } else {
                        out.write(sp[i]);
                    }
                }
                prevSpace = sp[sp.length - 1] == ' ';
            }
            pos += p.length();
            if (!removeExtraWhitespaces) {
                prevSpace = false;
            }
        }
        byte[] result = out.toByteArray();
        int len = result.length;
        if (removeExtraWhitespaces) {
            byte[] space = escapeWhitespaces ? SPACE_SYMBOL_UTF8 : new byte[] {' '};
            while (len >= space.length && endsWith(result, len, space)) {
                len -= space.length;
            }
        }
        String s = new String(result, 0, len, StandardCharsets.UTF_8);
        if (treatWhitespaceAsSuffix && addDummyPrefix) {
            s += escapeWhitespaces ? SPACE_SYMBOL : " ";
        }
        return s;
    }

    private void addSpace(ByteArrayOutputStream out) {
        if (escapeWhitespaces) {
            out.writeBytes(SPACE_SYMBOL_UTF8);
        } else {
            out.write(' ');
        }
    }

    /** {@code Normalizer::NormalizePrefix}: user-defined pieces first, then the charsmap, else one character. */
    private PrecompiledCharsmap.Match prefix(byte[] in, int pos) {
        int best = 0;
        for (byte[] u : userDefined) {
            if (u.length > best && startsWith(in, pos, u)) {
                best = u.length;
            }
        }
        if (best > 0) {
            return new PrecompiledCharsmap.Match(best, new String(in, pos, best, StandardCharsets.UTF_8));
        }
        if (charsmap != null) {
            PrecompiledCharsmap.Match m = charsmap.longestMatch(in, pos, in.length);
            if (m != null) {
                return m;
            }
        }
        int n = Math.min(Utf8.charLength(in[pos]), in.length - pos);
        return new PrecompiledCharsmap.Match(n, new String(in, pos, n, StandardCharsets.UTF_8));
    }

    private static boolean startsWith(byte[] in, int pos, byte[] prefix) {
        if (in.length - pos < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (in[pos + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean endsWith(byte[] b, int len, byte[] suffix) {
        for (int i = 0; i < suffix.length; i++) {
            if (b[len - suffix.length + i] != suffix[i]) {
                return false;
            }
        }
        return true;
    }
}
