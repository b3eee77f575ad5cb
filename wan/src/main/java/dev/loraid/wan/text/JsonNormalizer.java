package dev.loraid.wan.text;

import java.nio.charset.StandardCharsets;
import java.text.BreakIterator;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code normalizer} of an HF {@code tokenizer.json}, as HF tokenizers applies it: {@code Precompiled}
 * (a SentencePiece charsmap, applied per grapheme cluster like tokenizers' {@code precompiled.rs}), the Unicode
 * forms {@code NFC/NFD/NFKC/NFKD} (the file asks for them by name), {@code Strip}, {@code Replace},
 * {@code Lowercase} and {@code Sequence} of these. Any other type is an error naming it.
 */
final class JsonNormalizer {
    private JsonNormalizer() {
    }

    @SuppressWarnings("unchecked")
    static UnaryOperator<String> parse(Object spec, String where) throws TokenizerFileException {
        if (spec == null) {
            return UnaryOperator.identity();
        }
        if (!(spec instanceof Map<?, ?> m)) {
            throw new TokenizerFileException(where + " is not an object");
        }
        Object type = m.get("type");
        switch (String.valueOf(type)) {
            case "NFC" -> {
                return s -> Normalizer.normalize(s, Normalizer.Form.NFC);
            }
            case "NFD" -> {
                return s -> Normalizer.normalize(s, Normalizer.Form.NFD);
            }
            case "NFKC" -> {
                return s -> Normalizer.normalize(s, Normalizer.Form.NFKC);
            }
            case "NFKD" -> {
                return s -> Normalizer.normalize(s, Normalizer.Form.NFKD);
            }
            case "Lowercase" -> {
                return s -> s.toLowerCase(java.util.Locale.ROOT);
            }
            case "Precompiled" -> {
                Object b64 = m.get("precompiled_charsmap");
                if (b64 == null || "".equals(b64)) {
                    return UnaryOperator.identity();
                }
                byte[] blob;
                try {
                    blob = Base64.getDecoder().decode(String.valueOf(b64));
                } catch (IllegalArgumentException e) {
                    throw new TokenizerFileException(where + ".precompiled_charsmap is not base64: " + e.getMessage(), e);
                }
                PrecompiledCharsmap map = PrecompiledCharsmap.decode(blob, where + ".precompiled_charsmap");
                return s -> precompiled(map, s);
            }
            case "Strip" -> {
                boolean left = !Boolean.FALSE.equals(m.get("strip_left"));
                boolean right = !Boolean.FALSE.equals(m.get("strip_right"));
                return s -> strip(s, left, right);
            }
            case "Replace" -> {
                Object pattern = m.get("pattern");
                String content = String.valueOf(m.get("content"));
                Pattern p;
                if (pattern instanceof Map<?, ?> pm && pm.get("String") instanceof String str) {
                    p = Pattern.compile(Pattern.quote(str));
                } else if (pattern instanceof Map<?, ?> pm && pm.get("Regex") instanceof String re) {
                    p = Pattern.compile(re);
                } else {
                    throw new TokenizerFileException(where + ".pattern is neither {\"String\": …} nor {\"Regex\": …}");
                }
                String replacement = Matcher.quoteReplacement(content);
                return s -> p.matcher(s).replaceAll(replacement);
            }
            case "Sequence" -> {
                Object list = m.get("normalizers");
                if (!(list instanceof List<?> l)) {
                    throw new TokenizerFileException(where + ".normalizers is not a list");
                }
                List<UnaryOperator<String>> steps = new ArrayList<>();
                for (int i = 0; i < l.size(); i++) {
                    steps.add(parse(l.get(i), where + ".normalizers[" + i + "]"));
                }
                return s -> {
                    for (UnaryOperator<String> f : steps) {
                        s = f.apply(s);
                    }
                    return s;
                };
            }
            default -> throw new TokenizerFileException(where + ".type '" + type + "' is not supported (Precompiled, NFC, NFD, "
                    + "NFKC, NFKD, Strip, Replace, Lowercase, Sequence)");
        }
    }

    /**
     * tokenizers {@code Precompiled::normalize}: a grapheme cluster under 6 UTF-8 bytes is replaced whole by the
     * first charsmap rule matching at its start; otherwise (or without a rule) each character by its own rule.
     */
    static String precompiled(PrecompiledCharsmap map, String s) {
        StringBuilder out = new StringBuilder(s.length());
        BreakIterator graphemes = BreakIterator.getCharacterInstance(java.util.Locale.ROOT);
        graphemes.setText(s);
        for (int a = graphemes.first(), b = graphemes.next(); b != BreakIterator.DONE; a = b, b = graphemes.next()) {
            String g = s.substring(a, b);
            byte[] gb = g.getBytes(StandardCharsets.UTF_8);
            if (gb.length < 6) {
                PrecompiledCharsmap.Match m = map.firstMatch(gb, 0, gb.length);
                if (m != null) {
                    out.append(m.replacement());
                    continue;
                }
            }
            g.codePoints().forEach(c -> {
                byte[] cb = Character.toString(c).getBytes(StandardCharsets.UTF_8);
                PrecompiledCharsmap.Match m = map.firstMatch(cb, 0, cb.length);
                if (m != null) {
                    out.append(m.replacement());
                } else {
                    out.appendCodePoint(c);
                }
            });
        }
        return out.toString();
    }

    /** tokenizers {@code Strip}: Rust {@code char::is_whitespace} = Unicode White_Space. */
    private static String strip(String s, boolean left, boolean right) {
        int a = 0;
        int b = s.length();
        while (left && a < b && WanTextCleaner.isWhiteSpaceProperty(s.charAt(a))) {
            a++;
        }
        while (right && b > a && WanTextCleaner.isWhiteSpaceProperty(s.charAt(b - 1))) {
            b--;
        }
        return s.substring(a, b);
    }
}
