package dev.loraid.wan.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code Metaspace} pre-tokenizer of a {@code tokenizer.json} (tokenizers {@code metaspace.rs}): every space
 * becomes the replacement ("▁"), "▁" is prepended when the chunk does not start with it ({@code prepend_scheme}
 * "always", or "first" for the chunk at offset 0; the legacy {@code add_prefix_space: true} is "always"), and with
 * {@code split} the text is cut before each "▁" (the delimiter merged with the next word).
 */
record Metaspace(String replacement, String prependScheme, boolean split) {
    static Metaspace parse(Map<?, ?> m, String where) throws TokenizerFileException {
        Object rep = m.get("replacement");
        String replacement = rep == null ? SpmNormalizer.SPACE_SYMBOL : String.valueOf(rep);
        if (replacement.codePointCount(0, replacement.length()) != 1) {
            throw new TokenizerFileException(where + ".replacement '" + replacement + "' is not one character");
        }
        String scheme;
        if (m.get("prepend_scheme") instanceof String s) {
            scheme = s;
        } else {
            scheme = Boolean.FALSE.equals(m.get("add_prefix_space")) ? "never" : "always";
        }
        if (!List.of("always", "first", "never").contains(scheme)) {
            throw new TokenizerFileException(where + ".prepend_scheme '" + scheme + "' is not always/first/never");
        }
        return new Metaspace(replacement, scheme, !Boolean.FALSE.equals(m.get("split")));
    }

    /** The words of one normalised chunk; {@code firstChunk}: the chunk starts at offset 0 of the input. */
    List<String> words(String normalized, boolean firstChunk) {
        if (normalized.isEmpty()) {
            return List.of();
        }
        String s = normalized.replace(" ", replacement);
        boolean prepend = scheme("always") || (scheme("first") && firstChunk);
        if (prepend && !s.startsWith(replacement)) {
            s = replacement + s;
        }
        if (!split) {
            return List.of(s);
        }
        List<String> words = new ArrayList<>();
        int start = 0;
        for (int i = s.indexOf(replacement, 1); i >= 0; i = s.indexOf(replacement, i + replacement.length())) {
            words.add(s.substring(start, i));
            start = i;
        }
        words.add(s.substring(start));
        return words;
    }

    private boolean scheme(String s) {
        return prependScheme.equals(s);
    }
}
