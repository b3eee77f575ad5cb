package dev.loraid.wan.text;

import java.util.List;

/** One file format's way from text to pieces: special-token split, normalisation, pre-tokenisation, Viterbi. */
interface Pipeline {
    /** The pieces of {@code text} (no cleaning, no special tokens added), in order. */
    List<UnigramModel.Segment> segments(String text);

    /** Ids the post-processor puts before the text's pieces (none for UMT5). */
    int[] prefixIds();

    /** Ids the post-processor puts after the text's pieces ({@code </s>} for UMT5). */
    int[] suffixIds();

    int padId();

    UnigramModel model();

    /** "tokenizer.json" or "spiece.model". */
    String format();
}
