package dev.loraid.wan;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The hyper-parameters of one Wan DiT (spec wan.md §1.1). Everything the weights do not pin down (text_len, eps,
 * model_version) is carried here too, so that one record fully describes a forward pass.
 *
 * @param modelVersion  "2.1" or "2.2"; 2.2 computes the time embedding per token (§2.4) and never has an image branch
 * @param imageBranch   2.1 I2V/FLF2V/FC: {@code img_emb} (CLIP MLPProj) and the {@code k_img/v_img} cross-attention
 * @param imagePositions FLF2V: {@code img_emb.emb_pos} over 2×257 CLIP tokens
 */
public record WanConfig(String modelVersion, int patchT, int patchH, int patchW, int inDim, int outDim, int dim,
                        int ffnDim, int numHeads, int numLayers, int textDim, int freqDim, int textLen, double eps,
                        boolean imageBranch, boolean imagePositions) {

    /** Width of the CLIP ViT-H/14 tokens the image branch consumes (§2.6). */
    public static final int CLIP_DIM = 1280;
    /** Tokens per CLIP image (256 patches + class token). */
    public static final int CLIP_TOKENS = 257;

    public WanConfig {
        if (!modelVersion.equals("2.1") && !modelVersion.equals("2.2")) {
            throw new IllegalArgumentException("model_version '" + modelVersion + "': expected 2.1 or 2.2");
        }
        if (numHeads <= 0 || dim % numHeads != 0) {
            throw new IllegalArgumentException("dim " + dim + " is not divisible by num_heads " + numHeads);
        }
        if ((dim / numHeads) % 2 != 0) {
            throw new IllegalArgumentException("head_dim " + dim / numHeads + " must be even for RoPE pairs");
        }
        if (imageBranch && modelVersion.equals("2.2")) {
            throw new IllegalArgumentException("Wan 2.2 has no image cross-attention branch (spec wan.md §1.1)");
        }
        if (imagePositions && !imageBranch) {
            throw new IllegalArgumentException("img_emb.emb_pos (FLF2V) needs the image branch");
        }
        for (int v : new int[] {patchT, patchH, patchW, inDim, outDim, dim, ffnDim, numLayers, textDim, freqDim, textLen}) {
            if (v <= 0) {
                throw new IllegalArgumentException("non-positive size in Wan config " + this);
            }
        }
        if (freqDim % 2 != 0) {
            throw new IllegalArgumentException("freq_dim " + freqDim + " must be even ([cos | sin] halves)");
        }
    }

    /** The Wan 2.1/2.2 defaults shared by every released variant (§1.1), with the variant's sizes. */
    static WanConfig released(String version, int inDim, int outDim, int dim, int ffnDim, int numHeads, int numLayers,
                              boolean imageBranch, boolean imagePositions) {
        return new WanConfig(version, 1, 2, 2, inDim, outDim, dim, ffnDim, numHeads, numLayers, 4096, 256, 512,
                1e-6, imageBranch, imagePositions);
    }

    /**
     * Fun-Control's input (wan.md §1.1, musubi's *-FC tasks): noise, control latents and image latents, out_dim channels
     * each. Such a model may run without CLIP tokens (upstream's T2V-FC path; see WanCrossAttention).
     */
    public boolean funControl() {
        return imageBranch && inDim == 3 * outDim;
    }

    public int headDim() {
        return dim / numHeads;
    }

    /** Values per token in the patch-embedding input (and per token of the head output, for out_dim). */
    public int patchVolume() {
        return patchT * patchH * patchW;
    }

    /** Wan 2.2: one timestep per token (§2.4). */
    public boolean perTokenTime() {
        return modelVersion.equals("2.2");
    }

    public WanConfig withModelVersion(String version) {
        return new WanConfig(version, patchT, patchH, patchW, inDim, outDim, dim, ffnDim, numHeads, numLayers, textDim,
                freqDim, textLen, eps, imageBranch, imagePositions);
    }

    /** Upstream's model_type: t2v, i2v, flf2v or ti2v (what the config is used for, as far as shapes tell). */
    public String modelType() {
        if (imagePositions) {
            return "flf2v";
        }
        if (imageBranch) {
            return "i2v";
        }
        if (modelVersion.equals("2.2") && inDim == outDim && inDim == 48) {
            return "ti2v";
        }
        return inDim == outDim ? "t2v" : "i2v";
    }

    /** Number of parameters the key table implies (spec §6.1). */
    public long parameterCount() {
        long total = 0;
        for (long[] shape : WanKeys.expectedShapes(this).values()) {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            total += n;
        }
        return total;
    }

    /**
     * The config as upstream writes it (the golden files' {@code config} metadata): model_version, patch_size,
     * in_dim, out_dim, dim, ffn_dim, num_heads, num_layers, text_dim, freq_dim, text_len, qk_norm,
     * cross_attn_norm, eps, and model_type.
     */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model_type", modelType());
        m.put("model_version", modelVersion);
        m.put("patch_size", List.of(patchT, patchH, patchW));
        m.put("in_dim", inDim);
        m.put("out_dim", outDim);
        m.put("dim", dim);
        m.put("ffn_dim", ffnDim);
        m.put("num_heads", numHeads);
        m.put("num_layers", numLayers);
        m.put("text_dim", textDim);
        m.put("freq_dim", freqDim);
        m.put("text_len", textLen);
        m.put("qk_norm", true);
        m.put("cross_attn_norm", true);
        m.put("eps", eps);
        return m;
    }

    /** One line, as the CLI prints it. */
    public String describe() {
        return String.format(Locale.ROOT,
                "Wan %s %s: dim %d, ffn %d, heads %d (head_dim %d), layers %d, in_dim %d, out_dim %d, patch %dx%dx%d, "
                        + "text %dx%d, freq_dim %d%s",
                modelVersion, modelType(), dim, ffnDim, numHeads, headDim(), numLayers, inDim, outDim, patchT, patchH,
                patchW, textLen, textDim, freqDim, imageBranch ? ", CLIP image branch" : "");
    }
}
