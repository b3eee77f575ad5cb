package dev.loraid.wan.text;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A unigram language model over pieces and its Viterbi segmentation (spec vae-t5.md §4 step 4), in the two flavours
 * the two file formats are run by:
 * <ul>
 *   <li>{@link Flavor#SENTENCEPIECE} ({@code unigram_model.cc EncodeOptimized}): only NORMAL, USER_DEFINED and
 *       UNUSED pieces are in the lattice, UNUSED never win, a USER_DEFINED piece scores
 *       {@code bytes · max_score − 0.1}; min/max score are over NORMAL pieces.</li>
 *   <li>{@link Flavor#HF_TOKENIZERS} (tokenizers {@code unigram/model.rs encode_optimized}): every vocabulary string
 *       is in the lattice with its score; min score over the whole vocabulary.</li>
 * </ul>
 * Both: positions left to right, candidates in increasing length, a candidate replaces the best path ending at its
 * end only if strictly better; a position with no single-character piece gets a one-character unknown edge scoring
 * {@code min_score − 10}; consecutive unknowns are fused; with byte fallback an unknown becomes its UTF-8 bytes as
 * {@code <0xNN>} pieces.
 */
final class UnigramModel {
    enum Flavor { SENTENCEPIECE, HF_TOKENIZERS }

    /** One segment of the input: the piece id and the input text it covers. */
    record Segment(int id, String surface) {
    }

    static final double UNK_PENALTY = 10.0;

    private final Flavor flavor;
    private final List<String> pieces;
    private final double[] scores;
    private final PieceType[] types;
    private final Map<String, Integer> lattice = new HashMap<>(); // matchable piece -> id
    private final Map<String, Integer> ids = new HashMap<>();     // every piece -> id
    private final int maxPieceChars;
    private final int unkId;
    private final boolean byteFallback;
    private final double unkScore;
    private final double maxScore;

    UnigramModel(Flavor flavor, List<String> pieces, double[] scores, PieceType[] types, int unkId, boolean byteFallback) {
        this.flavor = flavor;
        this.pieces = pieces;
        this.scores = scores;
        this.types = types;
        this.unkId = unkId;
        this.byteFallback = byteFallback;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        int maxChars = 1;
        for (int id = 0; id < pieces.size(); id++) {
            String p = pieces.get(id);
            ids.put(p, id); // HF: last wins; sentencepiece rejects duplicates at load, so no difference there
            boolean inLattice = flavor == Flavor.HF_TOKENIZERS
                    || types[id] == PieceType.NORMAL || types[id] == PieceType.USER_DEFINED || types[id] == PieceType.UNUSED;
            boolean counts = flavor == Flavor.HF_TOKENIZERS || types[id] == PieceType.NORMAL;
            if (counts) {
                min = Math.min(min, scores[id]);
                max = Math.max(max, scores[id]);
            }
            if (inLattice && !p.isEmpty()) {
                lattice.put(p, id);
                maxChars = Math.max(maxChars, p.codePointCount(0, p.length()));
            }
        }
        // sentencepiece computes these in float: FLT_MAX/FLT_MIN starts, float subtraction
        this.unkScore = flavor == Flavor.SENTENCEPIECE ? (float) ((float) min - (float) UNK_PENALTY) : min - UNK_PENALTY;
        this.maxScore = max;
        this.maxPieceChars = maxChars;
    }

    int size() {
        return pieces.size();
    }

    String piece(int id) {
        return pieces.get(id);
    }

    Integer id(String piece) {
        return ids.get(piece);
    }

    int unkId() {
        return unkId;
    }

    /** Segments {@code text} (already normalised, spaces escaped) into pieces; empty text gives no segments. */
    List<Segment> encode(String text) {
        if (text.isEmpty()) {
            return List.of();
        }
        int[] cps = text.codePoints().toArray();
        int n = cps.length;
        int[] charStart = new int[n + 1]; // char index in text of each code point
        for (int i = 0, c = 0; i < n; i++) {
            charStart[i] = c;
            c += Character.charCount(cps[i]);
        }
        charStart[n] = text.length();
        double[] best = new double[n + 1];
        int[] startsAt = new int[n + 1];
        int[] bestId = new int[n + 1];
        java.util.Arrays.fill(startsAt, -1);
        startsAt[0] = 0;
        for (int start = 0; start < n; start++) {
            double here = best[start];
            boolean hasSingle = false;
            int maxLen = Math.min(maxPieceChars, n - start);
            for (int len = 1; len <= maxLen; len++) {
                Integer id = lattice.get(text.substring(charStart[start], charStart[start + len]));
                if (id == null) {
                    continue;
                }
                if (flavor == Flavor.SENTENCEPIECE && types[id] == PieceType.UNUSED) {
                    continue;
                }
                double score = flavor == Flavor.SENTENCEPIECE && types[id] == PieceType.USER_DEFINED
                        ? Utf8.byteLength(pieces.get(id)) * maxScore - 0.1 : scores[id];
                relax(best, startsAt, bestId, start, start + len, here + score, id);
                if (len == 1) {
                    hasSingle = true;
                }
            }
            if (!hasSingle) {
                // sentencepiece adds two floats here (the candidate for a piece is a double sum, see relax)
                double unk = flavor == Flavor.SENTENCEPIECE ? (float) (here + unkScore) : here + unkScore;
                relax(best, startsAt, bestId, start, start + 1, unk, unkId);
            }
        }
        List<Segment> reversed = new ArrayList<>();
        StringBuilder unk = new StringBuilder();
        for (int end = n; end > 0; ) {
            int start = startsAt[end];
            String surface = text.substring(charStart[start], charStart[end]);
            if (bestId[end] == unkId) {
                unk.insert(0, surface); // fuse consecutive unknowns
            } else {
                flushUnknown(reversed, unk);
                reversed.add(new Segment(bestId[end], surface));
            }
            end = start;
        }
        flushUnknown(reversed, unk);
        Collections.reverse(reversed);
        return byteFallback ? withByteFallback(reversed) : reversed;
    }

    private void relax(double[] best, int[] startsAt, int[] bestId, int start, int end, double score, int id) {
        if (startsAt[end] == -1 || score > best[end]) {
            // sentencepiece keeps best_path_score in a float; HF in an f64
            best[end] = flavor == Flavor.SENTENCEPIECE ? (float) score : score;
            startsAt[end] = start;
            bestId[end] = id;
        }
    }

    private void flushUnknown(List<Segment> reversed, StringBuilder unk) {
        if (!unk.isEmpty()) {
            // HF looks the fused string up in the vocabulary; it is only an unknown if it is not a piece
            Integer id = flavor == Flavor.HF_TOKENIZERS ? ids.get(unk.toString()) : null;
            reversed.add(new Segment(id != null ? id : unkId, unk.toString()));
            unk.setLength(0);
        }
    }

    /** Unknown segments become {@code <0xNN>} byte pieces when every byte piece exists (else stay unknown). */
    private List<Segment> withByteFallback(List<Segment> segments) {
        List<Segment> out = new ArrayList<>(segments.size());
        for (Segment s : segments) {
            if (s.id() != unkId) {
                out.add(s);
                continue;
            }
            byte[] bytes = s.surface().getBytes(StandardCharsets.UTF_8);
            List<Segment> asBytes = new ArrayList<>(bytes.length);
            for (byte b : bytes) {
                String name = String.format("<0x%02X>", b & 0xFF);
                Integer id = ids.get(name);
                if (id == null) {
                    asBytes = null;
                    break;
                }
                asBytes.add(new Segment(id, name));
            }
            if (asBytes == null) {
                out.add(s);
            } else {
                out.addAll(asBytes);
            }
        }
        return out;
    }
}
