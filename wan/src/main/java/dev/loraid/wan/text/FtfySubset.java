package dev.loraid.wan.text;

import java.text.Normalizer;
import java.util.regex.Pattern;

/**
 * The part of {@code ftfy.fix_text} (ftfy 6, default config) that Wan's cleaning relies on, in ftfy's order:
 * HTML entities when the text has no {@code '<'} ({@code unescape_html="auto"}: entities of the form
 * {@code &#?[0-9A-Za-z]{1,24};}), ANSI terminal escapes removed, Latin ligatures and full/half-width characters
 * expanded (NFKC of those characters, U+3000 → space), curly quotes straightened, line breaks to '\n', control
 * characters removed, then NFC.
 *
 * <p>Not done (spec vae-t5.md §4 names them, the Java port leaves them out): mojibake repair ({@code fix_encoding},
 * {@code decode_inconsistent_utf8}, {@code restore_byte_a0}, {@code replace_lossy_sequences}), C1 controls decoded
 * as Windows-1252, surrogate-pair repair, and ftfy's uppercase entity variants.
 */
public final class FtfySubset {
    private static final Pattern ANSI_ESCAPE = Pattern.compile("\u001b\\[((?:\\d|;)*)([a-zA-Z])");
    private static final Pattern HTML_ENTITY = Pattern.compile("&#?[0-9A-Za-z]{1,24};");
    private static final Pattern SINGLE_QUOTES = Pattern.compile("[\u02bc\u2018-\u201b]");
    private static final Pattern DOUBLE_QUOTES = Pattern.compile("[\u201c-\u201f]");
    private static final Pattern LINE_BREAKS = Pattern.compile("\r\n|\r|\u2028|\u2029|\u0085");

    private FtfySubset() {
    }

    public static String fix(String text) {
        String s = text;
        if (s.indexOf('<') < 0) {
            s = HTML_ENTITY.matcher(s).replaceAll(m -> java.util.regex.Matcher.quoteReplacement(entity(m.group())));
        }
        s = ANSI_ESCAPE.matcher(s).replaceAll("");
        s = ligaturesAndWidth(s);
        s = SINGLE_QUOTES.matcher(s).replaceAll("'");
        s = DOUBLE_QUOTES.matcher(s).replaceAll("\"");
        s = LINE_BREAKS.matcher(s).replaceAll("\n");
        s = removeControlChars(s);
        return Normalizer.normalize(s, Normalizer.Form.NFC);
    }

    /** ftfy {@code _unescape_fixup}: a numeric reference that would unescape to text containing ';' is kept. */
    private static String entity(String ref) {
        String u = HtmlUnescape.unescape(ref);
        if (ref.startsWith("&#")) {
            return u.contains(";") ? ref : u;
        }
        return u.equals(ref) || u.contains(";") ? ref : u;
    }

    /** ftfy {@code LIGATURES} (U+0132/0133, U+0149, U+01C4–01CC, U+FB00–FB06) and {@code WIDTH_MAP} (U+3000, U+FF01–FFEF). */
    private static String ligaturesAndWidth(String s) {
        StringBuilder out = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            boolean ligature = c == 0x132 || c == 0x133 || c == 0x149 || (c >= 0x1C4 && c <= 0x1CC) || (c >= 0xFB00 && c <= 0xFB06);
            if (c == 0x3000) {
                out.append(' ');
            } else if (ligature || (c >= 0xFF01 && c <= 0xFFEF)) {
                out.append(Normalizer.normalize(Character.toString(c), Normalizer.Form.NFKC));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }

    /** ftfy {@code CONTROL_CHARS}: U+0000–0008, 000B, 000E–001F, 007F, 206A–206F, FEFF, FFF9–FFFC. */
    private static String removeControlChars(String s) {
        StringBuilder out = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            boolean control = c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F
                    || (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
            if (!control) {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }
}
