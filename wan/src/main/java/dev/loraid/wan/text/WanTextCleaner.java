package dev.loraid.wan.text;

/**
 * Wan's prompt cleaning before tokenisation ({@code wan/modules/tokenizers.py HuggingfaceTokenizer} with
 * {@code clean='whitespace'}; spec vae-t5.md §4 step 1):
 * {@code whitespace_clean(basic_clean(text))} = ftfy ({@link FtfySubset}) → {@code html.unescape} twice → strip →
 * every run of Unicode White_Space → one space → strip.
 */
public final class WanTextCleaner {
    private WanTextCleaner() {
    }

    /** The full cleaning Wan applies (with the ftfy subset). */
    public static String clean(String text) {
        return cleanWithoutFtfy(FtfySubset.fix(text));
    }

    /** The cleaning minus ftfy: what the golden cases' {@code cleaned} field holds. */
    public static String cleanWithoutFtfy(String text) {
        String s = pythonStrip(HtmlUnescape.unescape(HtmlUnescape.unescape(text)));
        return pythonStrip(collapseWhitespace(s));
    }

    /** {@code regex.sub(r'\s+', ' ', s)} with the {@code regex} module: {@code \s} is the White_Space property. */
    static String collapseWhitespace(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean inRun = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            if (isWhiteSpaceProperty(c)) {
                if (!inRun) {
                    out.append(' ');
                }
                inRun = true;
            } else {
                out.appendCodePoint(c);
                inRun = false;
            }
        }
        return out.toString();
    }

    /** Python {@code str.strip()}: removes characters for which {@code str.isspace()} holds. */
    static String pythonStrip(String s) {
        int a = 0;
        int b = s.length();
        while (a < b && isPythonSpace(s.charAt(a))) {
            a++;
        }
        while (b > a && isPythonSpace(s.charAt(b - 1))) {
            b--;
        }
        return s.substring(a, b);
    }

    /** Unicode White_Space: U+0009–000D, 0020, 0085, 00A0, 1680, 2000–200A, 2028, 2029, 202F, 205F, 3000. */
    static boolean isWhiteSpaceProperty(int c) {
        return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680
                || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
    }

    /** Python {@code str.isspace()}: White_Space plus U+001C–001F (bidi class B/S). */
    static boolean isPythonSpace(int c) {
        return isWhiteSpaceProperty(c) || (c >= 0x1C && c <= 0x1F);
    }
}
