package dev.loraid.wan.text;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The shape of a UMT5 (T5 v1.1-style) encoder, upstream {@code T5Encoder}'s arguments (spec vae-t5.md §3). Every
 * size but {@code maxDistance} is read off the weights ({@link #infer}); heads come from the position table.
 *
 * @param vocab       rows of {@code token_embedding.weight} (256384 for UMT5-XXL)
 * @param dim         model width (4096)
 * @param dimAttn     width of q, k, v (4096); head dim = dimAttn / numHeads
 * @param ffnDim      hidden width of the gated FFN (10240)
 * @param numHeads    columns of the position table (64)
 * @param numLayers   blocks (24)
 * @param numBuckets  rows of the position table (32)
 * @param maxDistance distance where the log buckets end (128); not in the weights
 * @param sharedPos   one top-level position table for all layers (T5) instead of one per layer (UMT5)
 * @param eps         T5 norm epsilon (1e-6)
 */
public record Umt5Config(int vocab, int dim, int dimAttn, int ffnDim, int numHeads, int numLayers, int numBuckets,
                         int maxDistance, boolean sharedPos, double eps) {
    /** {@code umt5_xxl(encoder_only=True)}: Wan's text encoder. */
    public static final Umt5Config UMT5_XXL = new Umt5Config(256384, 4096, 4096, 10240, 64, 24, 32, 128, false, 1e-6);

    static final String TOKEN_EMBEDDING = "token_embedding.weight";
    static final String SHARED_POS = "pos_embedding.embedding.weight";

    public Umt5Config {
        if (vocab <= 0 || dim <= 0 || dimAttn <= 0 || ffnDim <= 0 || numHeads <= 0 || numLayers <= 0 || numBuckets < 4
                || maxDistance <= 0 || dimAttn % numHeads != 0) {
            throw new IllegalArgumentException("invalid UMT5 config: vocab " + vocab + ", dim " + dim + ", dim_attn "
                    + dimAttn + ", ffn " + ffnDim + ", heads " + numHeads + " (must divide dim_attn), layers " + numLayers
                    + ", buckets " + numBuckets + ", max_dist " + maxDistance);
        }
    }

    public int headDim() {
        return dimAttn / numHeads;
    }

    /**
     * Reads the config off canonical (Wan-named) key shapes. {@code metadata} is the file's {@code config} JSON
     * (may be empty); only {@code max_dist} and {@code eps} are taken from it, the rest must agree with the shapes.
     */
    public static Umt5Config infer(Map<String, long[]> shapes, Map<String, Object> metadata, String where) {
        long[] emb = require(shapes, TOKEN_EMBEDDING, 2, where);
        long[] q = require(shapes, "blocks.0.attn.q.weight", 2, where);
        long[] fc1 = require(shapes, "blocks.0.ffn.fc1.weight", 2, where);
        boolean shared = shapes.containsKey(SHARED_POS);
        long[] pos = require(shapes, shared ? SHARED_POS : "blocks.0.pos_embedding.embedding.weight", 2, where);
        TreeSet<Integer> blocks = new TreeSet<>();
        for (String k : shapes.keySet()) {
            if (k.startsWith("blocks.")) {
                int dot = k.indexOf('.', 7);
                try {
                    blocks.add(Integer.parseInt(k.substring(7, dot)));
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException(where + ": key " + k + " is not blocks.<index>.…");
                }
            }
        }
        if (blocks.first() != 0 || blocks.last() != blocks.size() - 1) {
            throw new IllegalArgumentException(where + ": block indices " + blocks + " are not 0..n-1");
        }
        int maxDist = metadata.get("max_dist") instanceof Number n ? n.intValue() : UMT5_XXL.maxDistance();
        double eps = metadata.get("eps") instanceof Number n ? n.doubleValue() : UMT5_XXL.eps();
        if ((int) pos[1] <= 0 || q[0] % pos[1] != 0) {
            throw new IllegalArgumentException(where + ": position table " + Arrays.toString(pos) + " gives "
                    + pos[1] + " heads, which do not divide the attention width " + q[0]);
        }
        return new Umt5Config((int) emb[0], (int) emb[1], (int) q[0], (int) fc1[0], (int) pos[1], blocks.size(),
                (int) pos[0], maxDist, shared, eps);
    }

    private static long[] require(Map<String, long[]> shapes, String key, int rank, String where) {
        long[] s = shapes.get(key);
        if (s == null) {
            throw new IllegalArgumentException(where + ": missing key " + key + " (a UMT5 encoder has it)");
        }
        if (s.length != rank) {
            throw new IllegalArgumentException(where + ": " + key + " has shape " + Arrays.toString(s) + ": expected rank " + rank);
        }
        return s;
    }

    /** Every key of this config with its shape, in upstream order (no biases anywhere). */
    public Map<String, long[]> expectedShapes() {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put(TOKEN_EMBEDDING, new long[] {vocab, dim});
        if (sharedPos) {
            m.put(SHARED_POS, new long[] {numBuckets, numHeads});
        }
        for (int i = 0; i < numLayers; i++) {
            String p = "blocks." + i + ".";
            m.put(p + "norm1.weight", new long[] {dim});
            for (String n : new String[] {"q", "k", "v"}) {
                m.put(p + "attn." + n + ".weight", new long[] {dimAttn, dim});
            }
            m.put(p + "attn.o.weight", new long[] {dim, dimAttn});
            m.put(p + "norm2.weight", new long[] {dim});
            m.put(p + "ffn.gate.0.weight", new long[] {ffnDim, dim});
            m.put(p + "ffn.fc1.weight", new long[] {ffnDim, dim});
            m.put(p + "ffn.fc2.weight", new long[] {dim, ffnDim});
            if (!sharedPos) {
                m.put(p + "pos_embedding.embedding.weight", new long[] {numBuckets, numHeads});
            }
        }
        m.put("norm.weight", new long[] {dim});
        return m;
    }

    public String describe() {
        return String.format(Locale.ROOT, "UMT5 encoder: vocab %d, dim %d, dim_attn %d, ffn %d, %d heads, %d layers, "
                + "%d buckets, max_dist %d, %s position bias", vocab, dim, dimAttn, ffnDim, numHeads, numLayers,
                numBuckets, maxDistance, sharedPos ? "shared" : "per-layer");
    }

    /** Upstream's argument names, for file metadata. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("vocab", vocab);
        m.put("dim", dim);
        m.put("dim_attn", dimAttn);
        m.put("dim_ffn", ffnDim);
        m.put("num_heads", numHeads);
        m.put("num_layers", numLayers);
        m.put("num_buckets", numBuckets);
        m.put("max_dist", maxDistance);
        m.put("shared_pos", sharedPos);
        m.put("eps", eps);
        return m;
    }
}
