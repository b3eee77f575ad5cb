package dev.loraid.wan.text;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of a SentencePiece {@code spiece.model} (protobuf {@code ModelProto}) that encoding needs, read with
 * {@link ProtoReader}. Field numbers (sentencepiece_model.proto, checked against {@code spm_tiny.model}):
 * ModelProto 1 pieces, 2 trainer_spec, 3 normalizer_spec; SentencePiece 1 piece, 2 score (float), 3 type;
 * TrainerSpec 3 model_type (1 = UNIGRAM), 24 treat_whitespace_as_suffix, 35 byte_fallback, 40 unk_id, 41 bos_id,
 * 42 eos_id, 43 pad_id; NormalizerSpec 1 name, 2 precompiled_charsmap, 3 add_dummy_prefix,
 * 4 remove_extra_whitespaces, 5 escape_whitespaces. Absent fields take the proto2 defaults.
 */
public record SpmModelProto(
        List<String> pieces, float[] scores, PieceType[] types,
        int modelType, boolean byteFallback, boolean treatWhitespaceAsSuffix,
        int unkId, int bosId, int eosId, int padId,
        String normalizerName, byte[] precompiledCharsmap,
        boolean addDummyPrefix, boolean removeExtraWhitespaces, boolean escapeWhitespaces) {

    public static final int UNIGRAM = 1;

    /** Reads and parses {@code file}; anything that is not a ModelProto is an error naming the file. */
    public static SpmModelProto read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        try {
            return parse(bytes);
        } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
            throw new TokenizerFileException(file + ": not a SentencePiece model (protobuf ModelProto): " + e.getMessage(), e);
        }
    }

    static SpmModelProto parse(byte[] bytes) {
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<PieceType> types = new ArrayList<>();
        // proto2 defaults (sentencepiece_model.proto)
        int modelType = UNIGRAM;
        boolean byteFallback = false;
        boolean suffix = false;
        int unk = 0;
        int bos = 1;
        int eos = 2;
        int pad = -1;
        String name = "";
        byte[] charsmap = new byte[0];
        boolean dummy = true;
        boolean removeWs = true;
        boolean escapeWs = true;
        boolean sawTrainer = false;

        ProtoReader r = new ProtoReader(bytes, 0, bytes.length);
        while (r.hasMore()) {
            int tag = r.tag();
            int field = tag >>> 3;
            int wire = tag & 7;
            if (field == 1 && wire == ProtoReader.LEN) {
                ProtoReader p = r.message();
                String piece = null;
                float score = 0;
                PieceType type = PieceType.NORMAL;
                while (p.hasMore()) {
                    int t = p.tag();
                    switch (t) {
                        case 1 << 3 | ProtoReader.LEN -> piece = p.string();
                        case 2 << 3 | ProtoReader.FIXED32 -> score = Float.intBitsToFloat(p.fixed32());
                        case 3 << 3 | ProtoReader.VARINT -> type = PieceType.of(p.varint());
                        default -> p.skip(t & 7);
                    }
                }
                if (piece == null) {
                    throw new IllegalArgumentException("piece " + pieces.size() + " has no string (field 1)");
                }
                pieces.add(piece);
                scores.add(score);
                types.add(type);
            } else if (field == 2 && wire == ProtoReader.LEN) {
                sawTrainer = true;
                ProtoReader t = r.message();
                while (t.hasMore()) {
                    int tg = t.tag();
                    int f = tg >>> 3;
                    if ((tg & 7) != ProtoReader.VARINT) {
                        t.skip(tg & 7);
                        continue;
                    }
                    long v = t.varint();
                    switch (f) {
                        case 3 -> modelType = (int) v;
                        case 24 -> suffix = v != 0;
                        case 35 -> byteFallback = v != 0;
                        case 40 -> unk = (int) v; // int32: negative values arrive as 10-byte varints, (int) keeps them
                        case 41 -> bos = (int) v;
                        case 42 -> eos = (int) v;
                        case 43 -> pad = (int) v;
                        default -> {
                        }
                    }
                }
            } else if (field == 3 && wire == ProtoReader.LEN) {
                ProtoReader n = r.message();
                while (n.hasMore()) {
                    int tg = n.tag();
                    switch (tg) {
                        case 1 << 3 | ProtoReader.LEN -> name = n.string();
                        case 2 << 3 | ProtoReader.LEN -> charsmap = n.bytes();
                        case 3 << 3 | ProtoReader.VARINT -> dummy = n.varint() != 0;
                        case 4 << 3 | ProtoReader.VARINT -> removeWs = n.varint() != 0;
                        case 5 << 3 | ProtoReader.VARINT -> escapeWs = n.varint() != 0;
                        default -> n.skip(tg & 7);
                    }
                }
            } else {
                r.skip(wire);
            }
        }
        if (pieces.isEmpty()) {
            throw new IllegalArgumentException("no pieces (field 1)" + (sawTrainer ? "" : " and no trainer_spec (field 2)"));
        }
        float[] s = new float[scores.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = scores.get(i);
        }
        return new SpmModelProto(List.copyOf(pieces), s, types.toArray(PieceType[]::new), modelType, byteFallback,
                suffix, unk, bos, eos, pad, name, charsmap, dummy, removeWs, escapeWs);
    }
}
