package dev.loraid.wan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Reads a {@link WanConfig} off a checkpoint's key table (spec wan.md §3): sizes come from the shapes, the head
 * count from head_dim = 128 (every released variant), and what shapes cannot tell (model_version, text_len, eps,
 * head count of a non-standard model) from the file's {@code config} metadata when present, else from hints in
 * the file name.
 */
public final class WanConfigInference {
    /** head_dim of every released Wan DiT (§1.1). */
    public static final int RELEASED_HEAD_DIM = 128;

    private WanConfigInference() {
    }

    /**
     * @param shapes   stripped key → shape, all shards together
     * @param metadata the {@code config} JSON of the safetensors metadata, parsed; empty when absent
     * @param fileName used only for model_version hints ("2.2", "A14B", "high_noise", "ti2v" …)
     */
    public static WanConfig infer(Map<String, long[]> shapes, Map<String, Object> metadata, String fileName) {
        long[] patch = shapes.get("patch_embedding.weight");
        if (patch == null) {
            throw new IllegalArgumentException((fileName == null ? "" : fileName + ": ") + notAModel(shapes));
        }
        if (patch.length != 5) {
            throw new IllegalArgumentException("patch_embedding.weight: expected [dim, in_dim, pt, ph, pw], got "
                    + Arrays.toString(patch));
        }
        int dim = (int) patch[0];
        int layers = countBlocks(shapes);
        long[] ffn = require(shapes, "blocks.0.ffn.0.weight");
        long[] head = require(shapes, "head.head.weight");
        int volume = (int) (patch[2] * patch[3] * patch[4]);
        if (head[0] % volume != 0) {
            throw new IllegalArgumentException("head.head.weight " + Arrays.toString(head)
                    + ": rows are not a multiple of the patch volume " + volume);
        }
        int heads = metadata.containsKey("num_heads") ? intOf(metadata, "num_heads") : headsFromDim(dim);
        boolean imageBranch = shapes.containsKey("blocks.0.cross_attn.k_img.weight");
        boolean imagePositions = shapes.containsKey("img_emb.emb_pos");
        int inDim = (int) patch[1];
        int outDim = (int) (head[0] / volume);
        String version = metadata.containsKey("model_version") ? String.valueOf(metadata.get("model_version"))
                : versionHint(inDim, outDim, dim, imageBranch, fileName);
        int textLen = metadata.containsKey("text_len") ? intOf(metadata, "text_len") : 512;
        double eps = metadata.containsKey("eps") ? ((Number) metadata.get("eps")).doubleValue() : 1e-6;
        return new WanConfig(version, (int) patch[2], (int) patch[3], (int) patch[4], inDim, outDim, dim,
                (int) ffn[0], heads, layers, (int) require(shapes, "text_embedding.0.weight")[1],
                (int) require(shapes, "time_embedding.0.weight")[1], textLen, eps, imageBranch, imagePositions);
    }

    /**
     * Wan 2.2 where the shapes say so (TI2V-5B: 48 channels in and out; I2V-A14B: 36 input channels but no CLIP
     * branch) or the file name says so; 2.1 otherwise. T2V-A14B and T2V-14B have identical weights (§1.1), and
     * with one timestep for all tokens their forward passes agree, so a wrong guess there changes no number.
     */
    static String versionHint(int inDim, int outDim, int dim, boolean imageBranch, String fileName) {
        if (inDim == 48 && outDim == 48 && !imageBranch) {
            return "2.2";
        }
        if (inDim == 36 && !imageBranch) {
            return "2.2";
        }
        String n = fileName == null ? "" : fileName.toLowerCase(Locale.ROOT);
        for (String hint : new String[] {"2.2", "2_2", "a14b", "high_noise", "low_noise", "ti2v"}) {
            if (n.contains(hint)) {
                return "2.2";
            }
        }
        return "2.1";
    }

    private static int headsFromDim(int dim) {
        if (dim % RELEASED_HEAD_DIM != 0) {
            throw new IllegalArgumentException("dim " + dim + " is not a multiple of head_dim " + RELEASED_HEAD_DIM
                    + " and the file has no config metadata with num_heads: pass the variant explicitly");
        }
        return dim / RELEASED_HEAD_DIM;
    }

    /** Number of blocks; a gap (blocks 0..n-1 not all present) is an error naming the missing block. */
    static int countBlocks(Map<String, long[]> shapes) {
        TreeSet<Integer> ids = new TreeSet<>();
        for (String k : shapes.keySet()) {
            if (k.startsWith("blocks.")) {
                int dot = k.indexOf('.', 7);
                try {
                    ids.add(Integer.parseInt(k.substring(7, dot < 0 ? k.length() : dot)));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("unexpected key " + k + ": expected blocks.<index>.…");
                }
            }
        }
        if (ids.isEmpty()) {
            throw new IllegalArgumentException("no blocks.<i>.* keys: expected a Wan DiT with transformer blocks");
        }
        List<Integer> missing = new ArrayList<>();
        for (int i = 0; i <= ids.last(); i++) {
            if (!ids.contains(i)) {
                missing.add(i);
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("blocks " + missing + " are missing (found blocks up to "
                    + ids.last() + "): a partial or truncated checkpoint?");
        }
        return ids.last() + 1;
    }

    private static long[] require(Map<String, long[]> shapes, String key) {
        long[] s = shapes.get(key);
        if (s == null) {
            throw new IllegalArgumentException("missing key " + key + ": expected a complete Wan DiT checkpoint");
        }
        return s;
    }

    private static int intOf(Map<String, Object> m, String key) {
        return ((Number) m.get(key)).intValue();
    }

    /** Why a key table that lacks patch_embedding.weight is not a Wan DiT, as specifically as we can tell. */
    static String notAModel(Map<String, long[]> shapes) {
        boolean lora = shapes.keySet().stream().anyMatch(k -> k.contains("lora_down") || k.contains("lora_up")
                || k.contains("lora_A") || k.contains("lora_B"));
        if (lora) {
            return "this is a LoRA file, not a model: expected a Wan DiT checkpoint with patch_embedding.weight";
        }
        boolean diffusers = shapes.keySet().stream().anyMatch(k -> k.contains("condition_embedder")
                || k.contains(".attn1.to_q"));
        if (diffusers) {
            return "this is a diffusers WanTransformer3DModel checkpoint, which uses other key names: expected the "
                    + "original Wan layout (patch_embedding.weight, blocks.N.self_attn.q.weight, …)";
        }
        boolean t5 = shapes.containsKey("shared.weight") || shapes.containsKey("token_embedding.weight")
                || shapes.keySet().stream().anyMatch(k -> k.startsWith("encoder.block."));
        if (t5) {
            return "this is a UMT5 text encoder, not a Wan DiT (expected patch_embedding.weight, blocks.N.self_attn.q.weight, …)";
        }
        boolean vae = shapes.keySet().stream().anyMatch(k -> k.startsWith("encoder.downsamples.")
                || k.startsWith("decoder.upsamples."));
        if (vae) {
            return "this is a Wan VAE, not a Wan DiT (expected patch_embedding.weight, blocks.N.self_attn.q.weight, …)";
        }
        List<String> sample = shapes.keySet().stream().sorted().limit(3).toList();
        return "no patch_embedding.weight: expected a Wan DiT checkpoint (first keys: " + sample + ")";
    }
}
