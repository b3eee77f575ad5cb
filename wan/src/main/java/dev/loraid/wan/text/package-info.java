/**
 * Wan's text side in pure Java: the UMT5 tokenizer (spec {@code vae-t5.md} §4; SentencePiece unigram, no native
 * library, no protobuf dependency) and the UMT5-XXL encoder (§3).
 *
 * <ul>
 *   <li>{@link dev.loraid.wan.text.Umt5Tokenizer}: loads an HF {@code tokenizer.json} or a {@code spiece.model}
 *       (or a folder with one) and gives a {@link dev.loraid.wan.text.TokenizedText}: ids, pieces, and ids + mask
 *       padded/truncated to {@code text_len} (512 for Wan).</li>
 *   <li>{@link dev.loraid.wan.text.WanTextCleaner}: Wan's {@code clean='whitespace'} prompt cleaning, with
 *       {@link dev.loraid.wan.text.FtfySubset} and {@link dev.loraid.wan.text.HtmlUnescape}.</li>
 *   <li>{@link dev.loraid.wan.text.PrecompiledCharsmap}: the {@code nmt_nfkc} normalisation table read from the
 *       file (never replaced by {@code java.text.Normalizer}); {@code SpmNormalizer} is sentencepiece's normaliser
 *       around it, {@code JsonNormalizer} tokenizer.json's.</li>
 *   <li>{@code UnigramModel}: the Viterbi segmentation; {@link dev.loraid.wan.text.SpmModelProto} the protobuf
 *       fields of a {@code spiece.model}, read by {@code ProtoReader}.</li>
 *   <li>{@link dev.loraid.wan.text.Umt5Checkpoint}: opens the encoder's weights (Wan {@code .pth}, safetensors with
 *       Wan or Hugging Face / ComfyUI names, fp8-scaled), maps the keys and infers the
 *       {@link dev.loraid.wan.text.Umt5Config}; {@link dev.loraid.wan.text.Umt5Encoder} is the model (inference only,
 *       F32 math over weights in their file dtype): {@code encode(TokenizedText)} gives the {@code [seq_len, dim]}
 *       context Wan caches. {@link dev.loraid.wan.text.T5PositionBuckets} is T5's relative-position bucketing.</li>
 * </ul>
 */
package dev.loraid.wan.text;
