package dev.loraid.wan.text;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Wan's clean='whitespace' cleaning: ftfy subset, double html.unescape, White_Space collapse, strip. */
class WanTextCleanerTest {
    @Test
    void whitespaceRunsOfEveryKindBecomeOneSpace() {
        assertEquals("a b c d", WanTextCleaner.clean(" \u3000a\t\n b\u00A0\u2009c \u202F\u205F d\r\n"));
        // U+001C is Python whitespace for strip() but not White_Space for the regex: kept inside, stripped at the ends
        assertEquals("a\u001Cb", WanTextCleaner.cleanWithoutFtfy("\u001Ca\u001Cb\u001C"));
    }

    @Test
    void htmlIsUnescapedTwiceAsPythonDoes() {
        assertEquals("<12>", WanTextCleaner.cleanWithoutFtfy("&amp;lt;12&amp;gt;"));
        assertEquals("&lt;", HtmlUnescape.unescape("&amp;lt;"));
        assertEquals("\u00ACit;", HtmlUnescape.unescape("&notit;"), "longest prefix entity without ';'");
        assertEquals("\u20AC \uFFFD  \u00E9 \u00E9 &bogus;", HtmlUnescape.unescape("&#x80; &#0; &#1; &eacute; &#233 &bogus;"));
        assertEquals("\u2242\u0338", HtmlUnescape.unescape("&NotEqualTilde;"), "two code points");
    }

    @Test
    void ftfySubset() {
        assertEquals("\"quoted\" 'it's'", FtfySubset.fix("\u201Cquoted\u201D \u2018it\u2019s\u2019"));
        assertEquals("fine cat A", FtfySubset.fix("\uFB01ne \uFF43\uFF41\uFF54\u3000\uFF21"));
        assertEquals("caf\u00E9", FtfySubset.fix("cafe\u0301"), "NFC");
        assertEquals("a\nb\nc", FtfySubset.fix("a\r\nb\rc"));
        assertEquals("ab red", FtfySubset.fix("a\u0007\uFEFFb \u001B[31mred"));
        assertEquals("x & y", FtfySubset.fix("x &amp; y"), "entities when there is no '<'");
        assertEquals("<b> &amp;", FtfySubset.fix("<b> &amp;"), "left alone in HTML-looking text");
    }
}
