package dev.loraid.wan.text;

import dev.loraid.tensor.json.Json;
import dev.loraid.tensor.json.JsonFormatException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The UMT5 tokenizer Wan's text encoder uses (spec vae-t5.md §4), in pure Java: a SentencePiece unigram model read
 * from an HF {@code tokenizer.json} or a {@code spiece.model}, giving ids, pieces, and ids + attention mask padded
 * or truncated to a fixed length ({@link #WAN_TEXT_LEN} = 512 for Wan).
 *
 * <pre>{@code
 * Umt5Tokenizer tok = Umt5Tokenizer.load(Path.of("google/umt5-xxl"));     // folder, tokenizer.json or spiece.model
 * TokenizedText t = tok.encodeWan("A cat &amp; a dog", Umt5Tokenizer.WAN_TEXT_LEN);
 * int[] ids = t.paddedIds();  int seqLen = t.seqLen();                    // ids end with </s> (id 1)
 * }</pre>
 */
public final class Umt5Tokenizer {
    /** Wan's {@code text_len}: every prompt is padded or truncated to 512 tokens. */
    public static final int WAN_TEXT_LEN = 512;

    private final Pipeline pipeline;
    private final Path source;

    private Umt5Tokenizer(Pipeline pipeline, Path source) {
        this.pipeline = pipeline;
        this.source = source;
    }

    /**
     * Loads {@code path}: a {@code tokenizer.json}, a {@code spiece.model}, or a folder holding one (tokenizer.json
     * preferred, as transformers' AutoTokenizer prefers the fast tokenizer). The kind of a file is read from its
     * contents, not its name; anything else (a safetensors file, a BPE tokenizer.json, ...) is an error naming it.
     */
    public static Umt5Tokenizer load(Path path) throws IOException {
        Path file = path;
        if (Files.isDirectory(path)) {
            if (Files.isRegularFile(path.resolve("tokenizer.json"))) {
                file = path.resolve("tokenizer.json");
            } else if (Files.isRegularFile(path.resolve("spiece.model"))) {
                file = path.resolve("spiece.model");
            } else {
                throw new TokenizerFileException(path + ": folder has neither tokenizer.json nor spiece.model");
            }
        }
        if (!Files.isRegularFile(file)) {
            throw new TokenizerFileException(file + ": no such tokenizer file");
        }
        byte[] head = new byte[16];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        }
        if (looksLikeSafetensors(head, n)) {
            throw new TokenizerFileException(file + " is a safetensors file, not a tokenizer (give tokenizer.json or spiece.model)");
        }
        int first = 0;
        while (first < n && Character.isWhitespace(head[first])) {
            first++;
        }
        if (first < n && head[first] == '{') {
            return new Umt5Tokenizer(readJson(file), file);
        }
        SpmModelProto proto = SpmModelProto.read(file);
        return new Umt5Tokenizer(new SpiecePipeline(proto, file.toString()), file);
    }

    private static Pipeline readJson(Path file) throws IOException {
        Map<String, Object> root;
        try {
            root = Json.parseObject(Files.readString(file, StandardCharsets.UTF_8));
        } catch (JsonFormatException | java.nio.charset.MalformedInputException e) {
            throw new TokenizerFileException(file + ": not valid JSON: " + e.getMessage(), e);
        }
        try {
            return new TokenizerJsonPipeline(root, file.toString());
        } catch (IllegalArgumentException | ClassCastException e) { // a value of the wrong JSON type (found by fuzzing)
            throw new TokenizerFileException(file + ": " + e.getMessage(), e);
        }
    }

    /** safetensors: u64 LE header length, then a JSON object. */
    private static boolean looksLikeSafetensors(byte[] head, int n) {
        if (n < 9 || head[8] != '{') {
            return false;
        }
        long len = 0;
        for (int i = 7; i >= 0; i--) {
            len = len << 8 | (head[i] & 0xFF);
        }
        return len > 1 && len < (1L << 40);
    }

    /** The file the tokenizer was read from. */
    public Path source() {
        return source;
    }

    /** "tokenizer.json" or "spiece.model": the format of {@link #source()}. */
    public String format() {
        return pipeline.format();
    }

    public int vocabSize() {
        return pipeline.model().size();
    }

    /** The vocabulary string of {@code id}. */
    public String piece(int id) {
        return pipeline.model().piece(id);
    }

    public int padId() {
        return pipeline.padId();
    }

    /** Wan's cleaning ({@link WanTextCleaner#clean}) then {@link #encode}: what Wan's T5 encoder is fed. */
    public TokenizedText encodeWan(String rawText, int maxLength) {
        return encode(WanTextCleaner.clean(rawText), maxLength);
    }

    /**
     * Tokenises {@code text} as given (no cleaning). {@code ids}: every piece with the post-processor's special
     * tokens ({@code ... </s>}), not truncated. {@code paddedIds}/{@code paddedMask}: exactly {@code maxLength}
     * long, truncated like HF ({@code truncation=True}: the first pieces are kept, the special tokens always), then
     * padded on the right with the pad id.
     */
    public TokenizedText encode(String text, int maxLength) {
        int[] pre = pipeline.prefixIds();
        int[] suf = pipeline.suffixIds();
        int room = maxLength - pre.length - suf.length;
        if (room < 0) {
            throw new IllegalArgumentException("max_length " + maxLength + " leaves no room for the " + (pre.length + suf.length)
                    + " special tokens the tokenizer adds");
        }
        List<UnigramModel.Segment> body = pipeline.segments(text);
        List<UnigramModel.Segment> all = withSpecials(pre, body, suf);
        List<UnigramModel.Segment> kept = body.size() > room ? withSpecials(pre, body.subList(0, room), suf) : all;
        UnigramModel model = pipeline.model();
        int[] ids = new int[all.size()];
        List<String> pieces = new ArrayList<>(all.size());
        List<String> surfaces = new ArrayList<>(all.size());
        for (int i = 0; i < ids.length; i++) {
            UnigramModel.Segment s = all.get(i);
            ids[i] = s.id();
            pieces.add(model.piece(s.id()));
            surfaces.add(s.surface());
        }
        int[] padded = new int[maxLength];
        int[] mask = new int[maxLength];
        java.util.Arrays.fill(padded, pipeline.padId());
        for (int i = 0; i < kept.size(); i++) {
            padded[i] = kept.get(i).id();
            mask[i] = 1;
        }
        return new TokenizedText(ids, pieces, surfaces, padded, mask);
    }

    private List<UnigramModel.Segment> withSpecials(int[] pre, List<UnigramModel.Segment> body, int[] suf) {
        UnigramModel model = pipeline.model();
        List<UnigramModel.Segment> all = new ArrayList<>(pre.length + body.size() + suf.length);
        for (int id : pre) {
            all.add(new UnigramModel.Segment(id, model.piece(id)));
        }
        all.addAll(body);
        for (int id : suf) {
            all.add(new UnigramModel.Segment(id, model.piece(id)));
        }
        return all;
    }

    /** The text sentencepiece segments for a {@code spiece.model} tokenizer (dummy prefix, "▁" for spaces). */
    String spmNormalized(String text) {
        if (!(pipeline instanceof SpiecePipeline p)) {
            throw new IllegalStateException(source + " is a " + format() + ", not a spiece.model");
        }
        return p.normalize(text);
    }
}
