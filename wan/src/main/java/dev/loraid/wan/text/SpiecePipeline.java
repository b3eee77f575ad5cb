package dev.loraid.wan.text;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code spiece.model} run the way transformers' slow {@code T5Tokenizer} runs it: special tokens ({@code </s>},
 * {@code <unk>}, {@code <pad>}) split off, each remaining chunk through sentencepiece's {@link SpmNormalizer} and
 * unigram Viterbi ({@link UnigramModel.Flavor#SENTENCEPIECE}), then {@code </s>} appended.
 */
final class SpiecePipeline implements Pipeline {
    private final UnigramModel model;
    private final SpmNormalizer normalizer;
    private final Map<String, Integer> specials = new LinkedHashMap<>();
    private final int eosId;
    private final int padId;

    SpiecePipeline(SpmModelProto proto, String source) throws TokenizerFileException {
        if (proto.modelType() != SpmModelProto.UNIGRAM) {
            throw new TokenizerFileException(source + ": SentencePiece model_type " + proto.modelType()
                    + " (2 = BPE, 3 = WORD, 4 = CHAR); only UNIGRAM (1) models such as UMT5's are supported");
        }
        int n = proto.pieces().size();
        int unk = proto.unkId();
        if (unk < 0 || unk >= n || proto.types()[unk] != PieceType.UNKNOWN) {
            throw new TokenizerFileException(source + ": unk_id " + unk + " is not an UNKNOWN piece of the " + n + "-piece model");
        }
        double[] scores = new double[n];
        List<String> userDefined = new ArrayList<>();
        Map<String, Integer> seen = new java.util.HashMap<>();
        for (int i = 0; i < n; i++) {
            scores[i] = proto.scores()[i];
            String p = proto.pieces().get(i);
            if (seen.put(p, i) != null) {
                throw new TokenizerFileException(source + ": piece '" + p + "' appears twice (ids " + seen.get(p) + " and " + i + ")");
            }
            if (proto.types()[i] == PieceType.USER_DEFINED) {
                userDefined.add(p);
            }
        }
        this.model = new UnigramModel(UnigramModel.Flavor.SENTENCEPIECE, proto.pieces(), scores, proto.types(), unk, proto.byteFallback());
        PrecompiledCharsmap charsmap = proto.precompiledCharsmap().length == 0 ? null
                : PrecompiledCharsmap.decode(proto.precompiledCharsmap(), source);
        this.normalizer = new SpmNormalizer(charsmap, userDefined, proto.addDummyPrefix(), proto.removeExtraWhitespaces(),
                proto.escapeWhitespaces(), proto.treatWhitespaceAsSuffix());
        this.eosId = idOr(seen, "</s>", proto.eosId(), n);
        this.padId = Math.max(0, idOr(seen, "<pad>", proto.padId(), n));
        if (eosId < 0) {
            throw new TokenizerFileException(source + ": no </s> piece and no eos_id; UMT5 ends every text with </s>");
        }
        for (int id : new int[] {eosId, unk, padId}) {
            if (id < n && proto.types()[id] != PieceType.NORMAL) {
                specials.put(proto.pieces().get(id), id);
            }
        }
    }

    private static int idOr(Map<String, Integer> ids, String piece, int fallback, int n) {
        Integer id = ids.get(piece);
        return id != null ? id : (fallback >= 0 && fallback < n ? fallback : -1);
    }

    @Override
    public List<UnigramModel.Segment> segments(String text) {
        List<UnigramModel.Segment> out = new ArrayList<>();
        for (SpecialTokenSplit.Chunk c : SpecialTokenSplit.split(text, specials)) {
            if (c.special()) {
                out.add(new UnigramModel.Segment(c.id(), c.text()));
            } else {
                out.addAll(model.encode(normalizer.normalize(c.text())));
            }
        }
        return out;
    }

    /** The normalised text sentencepiece segments (dummy prefix, "▁" for spaces), for tests and diagnostics. */
    String normalize(String text) {
        return normalizer.normalize(text);
    }

    @Override
    public int[] prefixIds() {
        return new int[0];
    }

    @Override
    public int[] suffixIds() {
        return new int[] {eosId};
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
        return "spiece.model";
    }
}
