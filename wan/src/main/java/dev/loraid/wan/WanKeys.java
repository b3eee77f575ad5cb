package dev.loraid.wan;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The state-dict key table of a Wan DiT (spec wan.md §3.1, §3.2): the one source of truth for key names and shapes,
 * and for the prefixes found on checkpoint files (§3.3).
 */
public final class WanKeys {
    /** ComfyUI's prefix (the repackaged files); stripped before anything else looks at a key (pitfall 17). */
    public static final String COMFY_PREFIX = "model.diffusion_model.";
    /** Seen on ComfyUI-saved models without the outer {@code model.}. */
    public static final String DIFFUSION_MODEL_PREFIX = "diffusion_model.";
    /** Suffix of the per-block scale of musubi's fp8-scaled weights (§3.3): {@code blocks.3.ffn.0.scale_weight}. */
    public static final String SCALE_SUFFIX = dev.loraid.wan.quant.Fp8Scales.SCALE_SUFFIX;

    private static final List<String> PREFIXES = List.of(COMFY_PREFIX, DIFFUSION_MODEL_PREFIX);
    private WanKeys() {
    }

    /** The key with a known checkpoint prefix removed. */
    public static String stripPrefix(String key) {
        for (String p : PREFIXES) {
            if (key.startsWith(p)) {
                return key.substring(p.length());
            }
        }
        return key;
    }

    /** Every key a checkpoint of this config holds, with its shape, in upstream order. */
    public static Map<String, long[]> expectedShapes(WanConfig c) {
        long d = c.dim();
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("patch_embedding.weight", new long[] {d, c.inDim(), c.patchT(), c.patchH(), c.patchW()});
        m.put("patch_embedding.bias", new long[] {d});
        linear(m, "text_embedding.0", c.textDim(), d);
        linear(m, "text_embedding.2", d, d);
        linear(m, "time_embedding.0", c.freqDim(), d);
        linear(m, "time_embedding.2", d, d);
        linear(m, "time_projection.1", d, 6 * d);
        for (int i = 0; i < c.numLayers(); i++) {
            blockShapes(c, "blocks." + i + ".", m);
        }
        linear(m, "head.head", d, (long) c.outDim() * c.patchVolume());
        m.put("head.modulation", new long[] {1, 2, d});
        if (c.imageBranch()) {
            m.put("img_emb.proj.0.weight", new long[] {WanConfig.CLIP_DIM});
            m.put("img_emb.proj.0.bias", new long[] {WanConfig.CLIP_DIM});
            linear(m, "img_emb.proj.1", WanConfig.CLIP_DIM, WanConfig.CLIP_DIM);
            linear(m, "img_emb.proj.3", WanConfig.CLIP_DIM, d);
            m.put("img_emb.proj.4.weight", new long[] {d});
            m.put("img_emb.proj.4.bias", new long[] {d});
            if (c.imagePositions()) {
                m.put("img_emb.emb_pos", new long[] {1, 2L * WanConfig.CLIP_TOKENS, WanConfig.CLIP_DIM});
            }
        }
        return m;
    }

    private static void blockShapes(WanConfig c, String p, Map<String, long[]> m) {
        long d = c.dim();
        m.put(p + "modulation", new long[] {1, 6, d});
        for (String n : new String[] {"q", "k", "v", "o"}) {
            linear(m, p + "self_attn." + n, d, d);
        }
        m.put(p + "self_attn.norm_q.weight", new long[] {d});
        m.put(p + "self_attn.norm_k.weight", new long[] {d});
        m.put(p + "norm3.weight", new long[] {d});
        m.put(p + "norm3.bias", new long[] {d});
        for (String n : new String[] {"q", "k", "v", "o"}) {
            linear(m, p + "cross_attn." + n, d, d);
        }
        m.put(p + "cross_attn.norm_q.weight", new long[] {d});
        m.put(p + "cross_attn.norm_k.weight", new long[] {d});
        if (c.imageBranch()) {
            linear(m, p + "cross_attn.k_img", d, d);
            linear(m, p + "cross_attn.v_img", d, d);
            m.put(p + "cross_attn.norm_k_img.weight", new long[] {d});
        }
        linear(m, p + "ffn.0", d, c.ffnDim());
        linear(m, p + "ffn.2", c.ffnDim(), d);
    }

    private static void linear(Map<String, long[]> m, String name, long in, long out) {
        m.put(name + ".weight", new long[] {out, in});
        m.put(name + ".bias", new long[] {out});
    }
}
