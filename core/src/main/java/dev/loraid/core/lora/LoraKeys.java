package dev.loraid.core.lora;

import java.util.List;
import java.util.OptionalInt;

/**
 * The one mapping between DiT module paths and LoRA tensor names (spec loraid.md §0, training.md §2.1, §7).
 * <ul>
 *   <li>musubi ("default"): module {@code blocks.3.self_attn.q} ⇄ LoRA name {@code lora_unet_blocks_3_self_attn_q},
 *       tensors {@code <name>.lora_down.weight [r, in]}, {@code <name>.lora_up.weight [out, r]}, {@code <name>.alpha []}.</li>
 *   <li>diffusers/ComfyUI ("other"): {@code diffusion_model.blocks.3.self_attn.q.lora_A.weight} (= down),
 *       {@code .lora_B.weight} (= up), optionally {@code .alpha}.</li>
 * </ul>
 * Going from a LoRA name back to a module path is ambiguous ({@code _} is both the separator and part of names such
 * as {@code self_attn}); it is repaired with the list of Wan names that contain an underscore.
 */
public final class LoraKeys {
    public static final String PREFIX = "lora_unet_";
    public static final String DIFFUSERS_PREFIX = "diffusion_model";
    private static final String BLOCKS = PREFIX + "blocks_";

    /** Wan module-path segments that contain '_' (training.md §7 repairs, plus the non-block modules). */
    private static final List<String> UNDERSCORED = List.of("self_attn", "cross_attn", "k_img", "v_img", "norm_q",
            "norm_k", "time_embedding", "text_embedding", "patch_embedding", "time_projection");

    /** The three tensors of a LoRA module and their musubi / diffusers suffixes. */
    public enum Part {
        DOWN(".lora_down.weight", ".lora_A.weight"),
        UP(".lora_up.weight", ".lora_B.weight"),
        ALPHA(".alpha", ".alpha");

        private final String musubiSuffix;
        private final String diffusersSuffix;

        Part(String musubiSuffix, String diffusersSuffix) {
            this.musubiSuffix = musubiSuffix;
            this.diffusersSuffix = diffusersSuffix;
        }

        public String musubiSuffix() {
            return musubiSuffix;
        }

        public String diffusersSuffix() {
            return diffusersSuffix;
        }
    }

    /** A parsed tensor name: which module ({@code lora_unet_…} name) and which of its tensors. */
    public record Key(String loraName, Part part) {
        public String musubi() {
            return loraName + part.musubiSuffix();
        }
    }

    private LoraKeys() {
    }

    /** {@code blocks.3.self_attn.q} → {@code lora_unet_blocks_3_self_attn_q}. */
    public static String loraName(String modulePath) {
        return PREFIX + modulePath.replace('.', '_');
    }

    /** The musubi tensor name of {@code part} of the module at {@code modulePath}. */
    public static String key(String modulePath, Part part) {
        return loraName(modulePath) + part.musubiSuffix();
    }

    /** {@code lora_unet_blocks_3_self_attn_q} → {@code blocks.3.self_attn.q} (Wan names repaired). */
    public static String modulePath(String loraName) {
        if (!loraName.startsWith(PREFIX)) {
            throw new IllegalArgumentException("not a LoRA module name (no '" + PREFIX + "' prefix): " + loraName);
        }
        String path = loraName.substring(PREFIX.length()).replace('_', '.');
        for (String u : UNDERSCORED) {
            path = path.replace(u.replace('_', '.'), u);
        }
        return path;
    }

    /**
     * The module path of a module name in either layout: {@code lora_unet_blocks_0_self_attn_q} (a musubi name outside
     * the blocks loses only its prefix) or a dotted {@code diffusion_model.blocks.0.self_attn.q} → {@code blocks.0.…}.
     */
    public static String anyModulePath(String name) {
        if (name.startsWith(PREFIX)) {
            return blockIndex(name).isPresent() ? modulePath(name) : name.substring(PREFIX.length());
        }
        int at = name.indexOf("blocks.");
        return at == 0 || at > 0 && name.charAt(at - 1) == '.' ? name.substring(at) : name;
    }

    /** Parses a musubi tensor name; null if it is not one. */
    public static Key parse(String tensorName) {
        if (!tensorName.startsWith(PREFIX)) {
            return null;
        }
        for (Part p : Part.values()) {
            String s = p.musubiSuffix();
            if (tensorName.endsWith(s) && tensorName.length() > PREFIX.length() + s.length()) {
                String name = tensorName.substring(0, tensorName.length() - s.length());
                return name.indexOf('.') < 0 ? new Key(name, p) : null;
            }
        }
        return null;
    }

    /** The diffusers/ComfyUI tensor name of {@code part} of the module at {@code modulePath}. */
    public static String diffusersKey(String prefix, String modulePath, Part part) {
        return prefix + "." + modulePath + part.diffusersSuffix();
    }

    /**
     * Parses a diffusers/ComfyUI tensor name whose first segment is {@code diffusion_model} or {@code transformer}
     * (training.md §7; {@code lora_down}/{@code lora_up} spellings accepted too); null if it is not one.
     */
    public static Key parseDiffusers(String tensorName) {
        int dot = tensorName.indexOf('.');
        if (dot < 0) {
            return null;
        }
        String first = tensorName.substring(0, dot);
        if (!first.equals(DIFFUSERS_PREFIX) && !first.equals("transformer")) {
            return null;
        }
        String rest = tensorName.substring(dot + 1);
        String[][] suffixes = {{".lora_A.weight", "DOWN"}, {".lora_down.weight", "DOWN"}, {".lora_B.weight", "UP"},
            {".lora_up.weight", "UP"}, {".alpha", "ALPHA"}};
        for (String[] s : suffixes) {
            if (rest.endsWith(s[0]) && rest.length() > s[0].length()) {
                return new Key(loraName(rest.substring(0, rest.length() - s[0].length())), Part.valueOf(s[1]));
            }
        }
        return null;
    }

    /** The block index of a LoRA module name ({@code lora_unet_blocks_7_…} → 7), empty for non-block modules. */
    public static OptionalInt blockIndex(String loraName) {
        if (!loraName.startsWith(BLOCKS)) {
            return OptionalInt.empty();
        }
        int i = BLOCKS.length();
        int j = i;
        while (j < loraName.length() && Character.isDigit(loraName.charAt(j))) {
            j++;
        }
        if (j == i || j - i > 9 || (j < loraName.length() && loraName.charAt(j) != '_')) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(Integer.parseInt(loraName.substring(i, j)));
    }
}
