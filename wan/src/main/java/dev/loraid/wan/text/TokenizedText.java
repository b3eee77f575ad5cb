package dev.loraid.wan.text;

import java.util.Arrays;
import java.util.List;

/**
 * One text after tokenisation.
 *
 * @param ids        the pieces' ids with the post-processor's special tokens ({@code ... </s>}), neither
 *                   truncated nor padded
 * @param pieces     the vocabulary string of each id ({@code <unk>} for an unknown), i.e. transformers'
 *                   {@code convert_ids_to_tokens(ids)}
 * @param surfaces   the input text each piece covers (the unknown text for {@code <unk>}, like sentencepiece's
 *                   {@code encode(out_type=str)}; the piece string otherwise)
 * @param paddedIds  exactly {@code maxLength} ids: {@code ids} truncated (first pieces kept, {@code </s>} last) or
 *                   padded with the pad id; what the text encoder is fed
 * @param paddedMask 1 for each real token of {@code paddedIds}, 0 for padding; {@link #seqLen()} is its sum
 */
public record TokenizedText(int[] ids, List<String> pieces, List<String> surfaces, int[] paddedIds, int[] paddedMask) {
    public TokenizedText {
        ids = ids.clone();
        pieces = List.copyOf(pieces);
        surfaces = List.copyOf(surfaces);
        paddedIds = paddedIds.clone();
        paddedMask = paddedMask.clone();
    }

    @Override
    public int[] ids() {
        return ids.clone();
    }

    @Override
    public int[] paddedIds() {
        return paddedIds.clone();
    }

    @Override
    public int[] paddedMask() {
        return paddedMask.clone();
    }

    /** Wan's {@code seq_len}: the real tokens among {@code paddedIds} ({@code </s>} included). */
    public int seqLen() {
        int n = 0;
        for (int m : paddedMask) {
            n += m;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenizedText t && Arrays.equals(ids, t.ids) && pieces.equals(t.pieces) && surfaces.equals(t.surfaces)
                && Arrays.equals(paddedIds, t.paddedIds) && Arrays.equals(paddedMask, t.paddedMask);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(ids) * 31 + Arrays.hashCode(paddedIds);
    }

    @Override
    public String toString() {
        return "TokenizedText" + Arrays.toString(ids) + pieces;
    }
}
