package dev.loraid.wan.text;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The key layouts a UMT5 encoder file comes in (spec vae-t5.md §3, §4b), mapped to upstream's names
 * ({@code token_embedding.weight}, {@code blocks.i.attn.q.weight}, …):
 * <ul>
 *   <li>Wan / musubi ({@code models_t5_umt5-xxl-enc-bf16.pth}): the upstream names; as upstream, every
 *       {@code "encoder."} is deleted first.</li>
 *   <li>Hugging Face / ComfyUI ({@code umt5_xxl_fp16.safetensors}, {@code …_fp8_e4m3fn_scaled}):
 *       {@code shared.weight}, {@code encoder.block.i.layer.0.SelfAttention.q.weight}, … — renamed one to one;
 *       {@code encoder.embed_tokens.weight} (tied to {@code shared.weight}) is dropped when both are present; fp8
 *       {@code .scale_weight} tensors follow their weight; the {@code scaled_fp8} marker is ignored.</li>
 * </ul>
 * A Wan DiT, VAE or LoRA file is recognised and refused by name.
 */
final class Umt5Keys {
    static final String SCALE_SUFFIX = dev.loraid.wan.quant.Fp8Scales.SCALE_SUFFIX;
    private static final Pattern HF_ATTN = Pattern.compile(
            "encoder\\.block\\.(\\d+)\\.layer\\.0\\.SelfAttention\\.(q|k|v|o)\\.(weight|scale_weight)");
    private static final Pattern HF_REST = Pattern.compile("encoder\\.block\\.(\\d+)\\.layer\\.([01])\\.(.+)");
    private static final Map<String, String> HF_LAYER0 = Map.of(
            "SelfAttention.relative_attention_bias.weight", "pos_embedding.embedding.weight",
            "layer_norm.weight", "norm1.weight");
    private static final Map<String, String> HF_LAYER1 = Map.of(
            "DenseReluDense.wi_0.weight", "ffn.gate.0.weight", "DenseReluDense.wi_0.scale_weight", "ffn.gate.0.scale_weight",
            "DenseReluDense.wi_1.weight", "ffn.fc1.weight", "DenseReluDense.wi_1.scale_weight", "ffn.fc1.scale_weight",
            "DenseReluDense.wo.weight", "ffn.fc2.weight", "DenseReluDense.wo.scale_weight", "ffn.fc2.scale_weight",
            "layer_norm.weight", "norm2.weight");

    private Umt5Keys() {
    }

    /** Canonical name → name in the file; throws naming {@code where} for a file of another kind or layout. */
    static Map<String, String> canonical(Collection<String> raw, String where) {
        refuseOtherModels(raw, where);
        List<String> keys = List.copyOf(raw);
        boolean hf = keys.contains("shared.weight") || keys.stream().anyMatch(k -> k.startsWith("encoder.block."));
        Map<String, String> out = new LinkedHashMap<>();
        List<String> unknown = new ArrayList<>();
        int i = 0;
        for (String r : raw) {
            String k = keys.get(i++);
            if (k.equals("scaled_fp8") || k.equals("spiece_model")) {
                continue; // ComfyUI's fp8 marker / embedded tokenizer: not weights
            }
            String name = hf ? fromHf(k, keys) : k.replace("encoder.", "");
            if (name == null) {
                if (!(hf && k.equals("encoder.embed_tokens.weight"))) {
                    unknown.add(r);
                }
                continue;
            }
            String clash = out.put(name, r);
            if (clash != null) {
                throw new IllegalArgumentException(where + ": keys " + clash + " and " + r + " both name " + name);
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(where + ": keys not in the Hugging Face UMT5 encoder layout: "
                    + unknown.subList(0, Math.min(5, unknown.size())) + (unknown.size() > 5 ? " … (" + unknown.size() + " in all)" : ""));
        }
        return out;
    }

    /** The Wan name of HF key {@code k}, or null; embed_tokens stands in for shared.weight when that is absent. */
    private static String fromHf(String k, List<String> keys) {
        if (k.equals("shared.weight")) {
            return Umt5Config.TOKEN_EMBEDDING;
        }
        if (k.equals("encoder.embed_tokens.weight")) {
            return keys.contains("shared.weight") ? null : Umt5Config.TOKEN_EMBEDDING;
        }
        if (k.equals("encoder.final_layer_norm.weight")) {
            return "norm.weight";
        }
        Matcher a = HF_ATTN.matcher(k);
        if (a.matches()) {
            return "blocks." + a.group(1) + ".attn." + a.group(2) + "." + a.group(3);
        }
        Matcher m = HF_REST.matcher(k);
        if (m.matches()) {
            String rest = (m.group(2).equals("0") ? HF_LAYER0 : HF_LAYER1).get(m.group(3));
            return rest == null ? null : "blocks." + m.group(1) + "." + rest;
        }
        return null;
    }

    /** A clear error for the files people mix up: a DiT, a VAE or a LoRA given as the text encoder. */
    private static void refuseOtherModels(Collection<String> raw, String where) {
        String kind = otherModelKind(raw);
        if (kind != null) {
            throw new IllegalArgumentException(where + " is " + kind + ", not a UMT5 text encoder (expected "
                    + "token_embedding.weight and blocks.N.attn.q.weight, as in models_t5_umt5-xxl-enc-bf16.pth)");
        }
        boolean t5 = raw.stream().anyMatch(k -> k.endsWith("token_embedding.weight") || k.endsWith("shared.weight")
                || k.endsWith("embed_tokens.weight"));
        if (!t5) {
            List<String> first = raw.stream().limit(4).toList();
            throw new IllegalArgumentException(where + " is not a UMT5 text encoder: no token_embedding.weight or "
                    + "shared.weight (first keys: " + first + ")");
        }
    }

    /** "a Wan DiT checkpoint" etc. when the keys say so, else null. */
    static String otherModelKind(Collection<String> raw) {
        for (String k : raw) {
            if (k.contains("lora_down") || k.contains("lora_up") || k.contains("lora_A") || k.contains("lora_B")) {
                return "a LoRA file";
            }
            if (k.endsWith("patch_embedding.weight")) {
                return "a Wan DiT checkpoint";
            }
            if (k.startsWith("encoder.downsamples.") || k.startsWith("decoder.upsamples.") || k.startsWith("decoder.conv1.")) {
                return "a Wan VAE checkpoint";
            }
        }
        return null;
    }

    /** Throws listing every missing, unexpected and mis-shaped key; fp8 scales ([1] or []) are allowed on Linears. */
    static void requireMatches(Umt5Config config, Map<String, long[]> shapes, String where) {
        Map<String, long[]> expected = config.expectedShapes();
        List<String> missing = new ArrayList<>();
        List<String> misShaped = new ArrayList<>();
        List<String> unexpected = new ArrayList<>();
        expected.forEach((k, s) -> {
            long[] got = shapes.get(k);
            if (got == null) {
                missing.add(k);
            } else if (!Arrays.equals(got, s)) {
                misShaped.add(k + ": expected " + Arrays.toString(s) + ", got " + Arrays.toString(got));
            }
        });
        shapes.forEach((k, s) -> {
            if (expected.containsKey(k)) {
                return;
            }
            if (k.endsWith(SCALE_SUFFIX) && isLinear(expected, k)) {
                if (Arrays.stream(s).reduce(1, (a, b) -> a * b) != 1) {
                    misShaped.add(k + ": expected one number per tensor ([] or [1]), got " + Arrays.toString(s));
                }
                return;
            }
            unexpected.add(k);
        });
        List<String> problems = new ArrayList<>();
        report(problems, "missing", missing);
        report(problems, "mis-shaped", misShaped);
        report(problems, "unexpected", unexpected);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(where + " does not match " + config.describe() + ": "
                    + String.join("; ", problems));
        }
    }

    static boolean isLinear(Map<String, long[]> expected, String scaleKey) {
        String w = scaleKey.substring(0, scaleKey.length() - SCALE_SUFFIX.length()) + ".weight";
        return expected.containsKey(w) && (w.contains(".attn.") || w.contains(".ffn."));
    }

    private static void report(List<String> out, String kind, List<String> keys) {
        if (!keys.isEmpty()) {
            int shown = Math.min(keys.size(), 5);
            out.add(kind + " " + String.join(", ", keys.subList(0, shown))
                    + (keys.size() > shown ? " … (" + keys.size() + " in all)" : ""));
        }
    }
}
