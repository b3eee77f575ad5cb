package dev.loraid.core.demo;

import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.json.JsonWriter;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The demo's text side, written as files so the real loaders read them: a Hugging Face Unigram
 * {@code tokenizer.json} whose pieces are the demo's words (plus single letters, so any other word still tokenizes)
 * and a tiny UMT5 encoder (dim 32 = the DiT's text_dim, 2 layers, 4 heads, per-layer position tables) with seeded
 * random weights. Both are rebuilt bit-identically from {@link #SEED}; the shipped base model was trained against
 * exactly these embeddings (its metadata records {@link #FINGERPRINT}).
 */
public final class DemoText {
    public static final long SEED = 20250801L;
    /** Changes whenever the vocabulary or the encoder's initialisation changes (the base must be rebuilt then). */
    public static final String FINGERPRINT = "demo-text-v1";
    public static final int DIM = 32;

    private DemoText() {
    }

    /** The pieces: specials, the word pieces "▁word", "▁", then the letters a–z. */
    static List<String> pieces() {
        List<String> p = new ArrayList<>(List.of("<pad>", "</s>", "<unk>"));
        for (String w : DemoScenes.words()) {
            p.add("\u2581" + w);
        }
        p.add("\u2581");
        for (char c = 'a'; c <= 'z'; c++) {
            p.add(String.valueOf(c));
        }
        return p;
    }

    /** Writes {@code tokenizer.json}; returns its path. */
    public static Path writeTokenizer(Path dir) throws IOException {
        List<Object> vocab = new ArrayList<>();
        for (String piece : pieces()) {
            double score = piece.startsWith("<") ? 0.0 : piece.equals("\u2581") ? -6.0 : piece.startsWith("\u2581") ? -2.0 : -8.0;
            vocab.add(List.of(piece, score));
        }
        Map<String, Object> metaspace = new LinkedHashMap<>();
        metaspace.put("type", "Metaspace");
        metaspace.put("replacement", "\u2581");
        metaspace.put("prepend_scheme", "always");
        metaspace.put("split", true);
        List<Object> added = new ArrayList<>();
        String[] specials = {"<pad>", "</s>", "<unk>"};
        for (int i = 0; i < specials.length; i++) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("id", (long) i);
            t.put("content", specials[i]);
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", true);
            added.add(t);
        }
        Map<String, Object> eos = Map.of("id", "</s>", "ids", List.of(1L), "tokens", List.of("</s>"));
        Map<String, Object> post = new LinkedHashMap<>();
        post.put("type", "TemplateProcessing");
        post.put("single", List.of(Map.of("Sequence", Map.of("id", "A", "type_id", 0L)),
                Map.of("SpecialToken", Map.of("id", "</s>", "type_id", 0L))));
        post.put("pair", List.of(Map.of("Sequence", Map.of("id", "A", "type_id", 0L)),
                Map.of("SpecialToken", Map.of("id", "</s>", "type_id", 0L)),
                Map.of("Sequence", Map.of("id", "B", "type_id", 0L)),
                Map.of("SpecialToken", Map.of("id", "</s>", "type_id", 0L))));
        post.put("special_tokens", Map.of("</s>", eos));
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "Unigram");
        model.put("unk_id", 2L);
        model.put("vocab", vocab);
        model.put("byte_fallback", false);
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", "1.0");
        root.put("truncation", null);
        root.put("padding", null);
        root.put("added_tokens", added);
        root.put("normalizer", Map.of("type", "NFKC"));
        root.put("pre_tokenizer", metaspace);
        root.put("post_processor", post);
        root.put("decoder", metaspace);
        root.put("model", model);
        Path out = dir.resolve("tokenizer.json");
        Files.writeString(out, JsonWriter.pretty(root));
        return out;
    }

    /** Writes {@code umt5_demo.safetensors}: seeded random UMT5 weights in the Wan key layout; returns its path. */
    public static Path writeEncoder(Path dir) throws IOException {
        int vocab = pieces().size();
        int ffn = 48;
        int heads = 4;
        int layers = 2;
        int buckets = 32;
        SplittableRandom r = new SplittableRandom(SEED);
        Map<String, Tensor> w = new LinkedHashMap<>();
        w.put("token_embedding.weight", gaussian(r, 1.0, vocab, DIM));
        for (int b = 0; b < layers; b++) {
            String p = "blocks." + b + ".";
            for (String n : new String[] {"q", "k", "v", "o"}) {
                w.put(p + "attn." + n + ".weight", gaussian(r, 1 / Math.sqrt(DIM), DIM, DIM));
            }
            w.put(p + "ffn.fc1.weight", gaussian(r, 1 / Math.sqrt(DIM), ffn, DIM));
            w.put(p + "ffn.gate.0.weight", gaussian(r, 1 / Math.sqrt(DIM), ffn, DIM));
            w.put(p + "ffn.fc2.weight", gaussian(r, 1 / Math.sqrt(ffn), DIM, ffn));
            w.put(p + "norm1.weight", Tensor.of(ones(DIM), DIM));
            w.put(p + "norm2.weight", Tensor.of(ones(DIM), DIM));
            w.put(p + "pos_embedding.embedding.weight", gaussian(r, 0.5, buckets, heads));
        }
        w.put("norm.weight", Tensor.of(ones(DIM), DIM));
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("vocab", (long) vocab);
        config.put("dim", (long) DIM);
        config.put("dim_attn", (long) DIM);
        config.put("dim_ffn", (long) ffn);
        config.put("num_heads", (long) heads);
        config.put("num_layers", (long) layers);
        config.put("num_buckets", (long) buckets);
        config.put("max_dist", 128L);
        config.put("shared_pos", false);
        Path out = dir.resolve("umt5_demo.safetensors");
        SafetensorsWriter.write(out, w, Map.of("config", JsonWriter.compact(config), "seed", Long.toString(SEED),
                "generator", "dev.loraid.core.demo.DemoText", "fingerprint", FINGERPRINT));
        return out;
    }

    static Tensor gaussian(SplittableRandom r, double std, long... dims) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        float[] v = new float[Math.toIntExact(n)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * std);
        }
        return Tensor.of(v, dims);
    }

    static float[] ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return v;
    }
}
