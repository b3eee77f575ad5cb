package dev.loraid.wan.text;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Python's {@code html.unescape} (CPython 3 {@code Lib/html/__init__.py}): numeric references with its table of
 * invalid references (Windows-1252 for 0x80–0x9F, U+FFFD for 0, surrogates and > U+10FFFF, nothing for the
 * invalid code points), and the 2,231 HTML5 named references ({@code html5_entities.txt}, the WHATWG table as
 * Python ships it), including the longest-prefix rule for names without ';'.
 */
public final class HtmlUnescape {
    private static final Pattern CHARREF = Pattern.compile("&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\\t\\n\\f <&#;]{1,32};?)");
    private static final Map<String, String> NAMED = load();
    /** {@code html._invalid_charrefs}: 0x80–0x9F as Windows-1252 (undefined bytes stay themselves). */
    private static final String CP1252_80_9F = "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f"
            + "\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178";

    private HtmlUnescape() {
    }

    /** {@code html.unescape(s)}. */
    public static String unescape(String s) {
        if (s.indexOf('&') < 0) {
            return s;
        }
        Matcher m = CHARREF.matcher(s);
        StringBuilder out = new StringBuilder(s.length());
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(replace(m.group(1))));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String replace(String ref) {
        if (ref.charAt(0) == '#') {
            String digits = ref.endsWith(";") ? ref.substring(0, ref.length() - 1) : ref;
            boolean hex = digits.length() > 1 && (digits.charAt(1) == 'x' || digits.charAt(1) == 'X');
            String d = digits.substring(hex ? 2 : 1);
            java.math.BigInteger big = new java.math.BigInteger(d, hex ? 16 : 10);
            if (big.compareTo(java.math.BigInteger.valueOf(0x10FFFF)) > 0) {
                return "\uFFFD";
            }
            int num = big.intValue();
            if (num == 0) {
                return "\uFFFD";
            }
            if (num == 0x0D) {
                return "\r";
            }
            if (num >= 0x80 && num <= 0x9F) {
                return String.valueOf(CP1252_80_9F.charAt(num - 0x80));
            }
            if (num >= 0xD800 && num <= 0xDFFF) {
                return "\uFFFD";
            }
            if (invalidCodePoint(num)) {
                return "";
            }
            return Character.toString(num);
        }
        String v = NAMED.get(ref);
        if (v != null) {
            return v;
        }
        for (int x = ref.length() - 1; x > 1; x--) {
            v = NAMED.get(ref.substring(0, x));
            if (v != null) {
                return v + ref.substring(x);
            }
        }
        return "&" + ref;
    }

    /** {@code html._invalid_codepoints} (0x80–0x9F are handled before, as in Python). */
    private static boolean invalidCodePoint(int c) {
        return (c >= 0x1 && c <= 0x8) || c == 0xB || (c >= 0xE && c <= 0x1F) || (c >= 0x7F && c <= 0x9F)
                || (c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE;
    }

    private static Map<String, String> load() {
        Map<String, String> m = new HashMap<>(4096);
        try (InputStream in = HtmlUnescape.class.getResourceAsStream("html5_entities.txt")) {
            if (in == null) {
                throw new IllegalStateException("resource dev/loraid/wan/text/html5_entities.txt is missing from the jar");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("#") || line.isEmpty()) {
                    continue;
                }
                int tab = line.indexOf('\t');
                StringBuilder v = new StringBuilder();
                for (String hex : line.substring(tab + 1).split(" ")) {
                    v.appendCodePoint(Integer.parseInt(hex, 16));
                }
                m.put(line.substring(0, tab), v.toString());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Map.copyOf(m);
    }
}
