package dev.loraid.wan.text;

import dev.loraid.tensor.json.Json;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * An HF {@code tokenizer.json} with a {@code Unigram} model, run the way HF tokenizers runs it: added tokens split
 * off the raw text, each remaining chunk through the {@link JsonNormalizer}, the {@link Metaspace} pre-tokenizer
 * and the unigram Viterbi per word ({@link UnigramModel.Flavor#HF_TOKENIZERS}), then the
 * {@code TemplateProcessing} post-processor's special tokens ({@code $A </s>} for UMT5).
 */
final class TokenizerJsonPipeline implements Pipeline {
    private final UnigramModel model;
    private final UnaryOperator<String> normalizer;
    private final Metaspace metaspace; // null: no pre-tokenizer, the chunk is one word
    private final Map<String, Integer> added = new LinkedHashMap<>();
    private final int[] prefix;
    private final int[] suffix;
    private final int padId;

    TokenizerJsonPipeline(Map<String, Object> root, String file) throws TokenizerFileException {
        if (!(root.get("model") instanceof Map<?, ?> model)) {
            throw new TokenizerFileException(file + ": no \"model\" object; not an HF tokenizer.json");
        }
        if (!"Unigram".equals(model.get("type"))) {
            throw new TokenizerFileException(file + ": model.type is '" + model.get("type")
                    + "'; only Unigram (SentencePiece, e.g. UMT5) tokenizers are supported");
        }
        if (!(model.get("vocab") instanceof List<?> vocab) || vocab.isEmpty()) {
            throw new TokenizerFileException(file + ": model.vocab is not a non-empty list of [piece, score]");
        }
        List<String> pieces = new ArrayList<>(vocab.size());
        double[] scores = new double[vocab.size()];
        for (int i = 0; i < vocab.size(); i++) {
            if (!(vocab.get(i) instanceof List<?> e) || e.size() != 2 || !(e.get(0) instanceof String p) || !(e.get(1) instanceof Number s)) {
                throw new TokenizerFileException(file + ": model.vocab[" + i + "] is not [piece, score]");
            }
            pieces.add(p);
            scores[i] = s.doubleValue();
        }
        Object unk = model.get("unk_id");
        if (unk == null) {
            throw new TokenizerFileException(file + ": model.unk_id is null; UMT5 tokenizers have an unknown piece");
        }
        int unkId = (int) Json.asLong(unk);
        if (unkId < 0 || unkId >= pieces.size()) {
            throw new TokenizerFileException(file + ": model.unk_id " + unkId + " is outside the " + pieces.size() + "-piece vocab");
        }
        PieceType[] types = new PieceType[pieces.size()];
        java.util.Arrays.fill(types, PieceType.NORMAL);
        this.model = new UnigramModel(UnigramModel.Flavor.HF_TOKENIZERS, List.copyOf(pieces), scores, types, unkId,
                Boolean.TRUE.equals(model.get("byte_fallback")));
        this.normalizer = JsonNormalizer.parse(root.get("normalizer"), file + ": normalizer");
        this.metaspace = preTokenizer(root.get("pre_tokenizer"), file);

        if (root.get("added_tokens") instanceof List<?> list) {
            for (Object o : list) {
                if (o instanceof Map<?, ?> t && t.get("content") instanceof String c && t.get("id") != null) {
                    added.put(c, (int) Json.asLong(t.get("id")));
                }
            }
        }
        List<Integer> pre = new ArrayList<>();
        List<Integer> post = new ArrayList<>();
        template(root.get("post_processor"), file, pre, post);
        this.prefix = pre.stream().mapToInt(Integer::intValue).toArray();
        this.suffix = post.stream().mapToInt(Integer::intValue).toArray();
        int pad = model().id("<pad>") != null ? model().id("<pad>") : 0;
        if (root.get("padding") instanceof Map<?, ?> p && p.get("pad_id") != null) {
            pad = (int) Json.asLong(p.get("pad_id"));
        }
        this.padId = pad;
    }

    private static Metaspace preTokenizer(Object spec, String file) throws TokenizerFileException {
        if (spec == null) {
            return null;
        }
        if (spec instanceof Map<?, ?> m && "Metaspace".equals(m.get("type"))) {
            return Metaspace.parse(m, file + ": pre_tokenizer");
        }
        if (spec instanceof Map<?, ?> m && "Sequence".equals(m.get("type")) && m.get("pretokenizers") instanceof List<?> l
                && l.size() == 1 && l.getFirst() instanceof Map<?, ?> only && "Metaspace".equals(only.get("type"))) {
            return Metaspace.parse(only, file + ": pre_tokenizer.pretokenizers[0]");
        }
        Object type = spec instanceof Map<?, ?> m ? m.get("type") : spec;
        throw new TokenizerFileException(file + ": pre_tokenizer '" + type + "' is not supported (Metaspace)");
    }

    /** {@code TemplateProcessing.single}: the special tokens around {@code $A} (other types are an error). */
    private static void template(Object spec, String file, List<Integer> pre, List<Integer> post) throws TokenizerFileException {
        if (spec == null) {
            return;
        }
        if (!(spec instanceof Map<?, ?> m) || !"TemplateProcessing".equals(m.get("type")) || !(m.get("single") instanceof List<?> single)) {
            Object type = spec instanceof Map<?, ?> mm ? mm.get("type") : spec;
            throw new TokenizerFileException(file + ": post_processor '" + type + "' is not supported (TemplateProcessing)");
        }
        Map<?, ?> specials = m.get("special_tokens") instanceof Map<?, ?> s ? s : Map.of();
        boolean seenA = false;
        for (Object item : single) {
            if (item instanceof Map<?, ?> it && it.get("Sequence") != null) {
                seenA = true;
            } else if (item instanceof Map<?, ?> it && it.get("SpecialToken") instanceof Map<?, ?> st) {
                Object name = st.get("id");
                if (!(specials.get(name) instanceof Map<?, ?> def) || !(def.get("ids") instanceof List<?> ids)) {
                    throw new TokenizerFileException(file + ": post_processor names special token '" + name
                            + "' that special_tokens does not define");
                }
                for (Object id : ids) {
                    (seenA ? post : pre).add((int) Json.asLong(id));
                }
            } else {
                throw new TokenizerFileException(file + ": post_processor.single has an item that is neither Sequence nor SpecialToken");
            }
        }
    }

    @Override
    public List<UnigramModel.Segment> segments(String text) {
        List<UnigramModel.Segment> out = new ArrayList<>();
        for (SpecialTokenSplit.Chunk c : SpecialTokenSplit.split(text, added)) {
            if (c.special()) {
                out.add(new UnigramModel.Segment(c.id(), c.text()));
                continue;
            }
            String normalized = normalizer.apply(c.text());
            List<String> words = metaspace == null ? (normalized.isEmpty() ? List.of() : List.of(normalized))
                    : metaspace.words(normalized, c.offset() == 0);
            for (String w : words) {
                out.addAll(model.encode(w));
            }
        }
        return out;
    }

    @Override
    public int[] prefixIds() {
        return prefix.clone();
    }

    @Override
    public int[] suffixIds() {
        return suffix.clone();
    }

    @Override
    public int padId() {
        return padId;
    }

    @Override
    public UnigramModel model() {
        return model;
    }

    @Override
    public String format() {
        return "tokenizer.json";
    }

}
