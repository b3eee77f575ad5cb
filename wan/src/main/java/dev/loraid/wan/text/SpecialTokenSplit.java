package dev.loraid.wan.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Splits text on special (added) tokens before normalisation, as both tokenizers do: the leftmost occurrence of
 * any special token's string, the longest one where several start there; the rest is plain text.
 */
final class SpecialTokenSplit {
    /** A plain text chunk ({@code id < 0}) or one special token ({@code text} is its string). */
    record Chunk(String text, int id, int offset) {
        boolean special() {
            return id >= 0;
        }
    }

    private SpecialTokenSplit() {
    }

    static List<Chunk> split(String text, Map<String, Integer> specials) {
        List<Chunk> out = new ArrayList<>();
        int plainStart = 0;
        int i = 0;
        while (i < text.length()) {
            String hit = null;
            if (!specials.isEmpty()) {
                for (Map.Entry<String, Integer> e : specials.entrySet()) {
                    String s = e.getKey();
                    if (!s.isEmpty() && text.startsWith(s, i) && (hit == null || s.length() > hit.length())) {
                        hit = s;
                    }
                }
            }
            if (hit == null) {
                i++;
                continue;
            }
            if (i > plainStart) {
                out.add(new Chunk(text.substring(plainStart, i), -1, plainStart));
            }
            out.add(new Chunk(hit, specials.get(hit), i));
            i += hit.length();
            plainStart = i;
        }
        if (plainStart < text.length()) {
            out.add(new Chunk(text.substring(plainStart), -1, plainStart));
        }
        return out;
    }
}
