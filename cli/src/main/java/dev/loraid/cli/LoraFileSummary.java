package dev.loraid.cli;

import dev.loraid.core.lora.LoraKeys;
import dev.loraid.core.lora.LoraKeys.Part;
import dev.loraid.tensor.safetensors.TensorInfo;
import dev.loraid.tensor.safetensors.TensorSource;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Recognises a LoRA file by its keys and says what it touches: ranks, alphas, and which modules of which blocks.
 * Two key styles (spec wan.md §4), named by {@link LoraKeys}: musubi/kohya
 * {@code lora_unet_blocks_0_self_attn_q.lora_down.weight} / {@code .lora_up.weight} / {@code .alpha}, and
 * diffusers/PEFT {@code [prefix.]blocks.0.self_attn.q.lora_A.weight} / {@code .lora_B.weight}. It reads headers only
 * and accepts any diffusers prefix, so that {@code inspect} describes files the LoRA library would refuse.
 */
final class LoraFileSummary {
    private static final Pattern BLOCK = Pattern.compile("blocks\\.(\\d+)\\.(.+)");
    /** Linear layers of a Wan block in model order (spec wan.md §4), so summaries read q k v o, not k o q v. */
    private static final List<String> BLOCK_ORDER = List.of("self_attn.q", "self_attn.k", "self_attn.v", "self_attn.o",
        "cross_attn.q", "cross_attn.k", "cross_attn.v", "cross_attn.o", "cross_attn.k_img", "cross_attn.v_img", "ffn.0", "ffn.2");
    private static final Comparator<String> MODULE_ORDER = Comparator
        .comparingInt((String m) -> BLOCK_ORDER.contains(m) ? BLOCK_ORDER.indexOf(m) : BLOCK_ORDER.size())
        .thenComparing(Comparator.naturalOrder());

    /** One adapted module: its dotted path, rank (from lora_down / lora_A) and alpha (null if not stored). */
    record Module(String path, long rank, Double alpha) {
    }

    private final String style;
    private final List<Module> modules;
    private final List<String> problems;

    private LoraFileSummary(String style, List<Module> modules, List<String> problems) {
        this.style = style;
        this.modules = modules;
        this.problems = problems;
    }

    /** The summary of {@code src}, or null if it holds no LoRA keys. Reads only the headers and the alpha scalars. */
    static LoraFileSummary of(TensorSource src) {
        Map<String, Map<Part, TensorInfo>> byPrefix = new LinkedHashMap<>();
        for (String name : src.names()) {
            for (Part part : Part.values()) {
                String suffix = name.endsWith(part.musubiSuffix()) ? part.musubiSuffix()
                    : name.endsWith(part.diffusersSuffix()) ? part.diffusersSuffix() : null;
                if (suffix != null) {
                    byPrefix.computeIfAbsent(name.substring(0, name.length() - suffix.length()), k -> new EnumMap<>(Part.class))
                        .put(part, src.info(name));
                    break;
                }
            }
        }
        byPrefix.values().removeIf(parts -> parts.size() == 1 && parts.containsKey(Part.ALPHA));
        if (byPrefix.isEmpty()) {
            return null;
        }
        boolean musubi = byPrefix.keySet().stream().anyMatch(p -> p.startsWith(LoraKeys.PREFIX));
        List<Module> modules = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Map<Part, TensorInfo>> e : byPrefix.entrySet()) {
            Map<Part, TensorInfo> parts = e.getValue();
            TensorInfo down = parts.get(Part.DOWN);
            TensorInfo up = parts.get(Part.UP);
            if (down == null || up == null) {
                problems.add(e.getKey() + ": has " + (down == null ? "an up" : "a down") + " matrix but no "
                    + (down == null ? "down" : "up") + " matrix");
                continue;
            }
            long rank = down.shape().rank() >= 1 ? down.shape().dim(0) : -1;
            if (up.shape().rank() < 2 || up.shape().dim(1) != rank) {
                problems.add(e.getKey() + ": down " + down.shape() + " and up " + up.shape() + " disagree on the rank");
            }
            Double alpha = null;
            TensorInfo a = parts.get(Part.ALPHA);
            if (a != null) {
                if (a.shape().numel() == 1) {
                    alpha = src.tensor(a.name()).getDouble(new long[a.shape().rank()]);
                } else {
                    problems.add(a.name() + ": alpha should be a scalar, has shape " + a.shape());
                }
            }
            modules.add(new Module(modulePath(e.getKey()), rank, alpha));
        }
        return new LoraFileSummary(musubi ? "musubi/kohya (lora_unet_*, lora_down/lora_up)" : "diffusers/PEFT (lora_A/lora_B)",
            modules, problems);
    }

    /**
     * {@code lora_unet_blocks_0_self_attn_q} or {@code diffusion_model.blocks.0.self_attn.q} → {@code blocks.0.self_attn.q}.
     * A musubi name outside the blocks is shown as named, without its prefix ({@code text_embedding_0}).
     */
    static String modulePath(String prefix) {
        return LoraKeys.anyModulePath(prefix);
    }

    FileSummary toSummary() {
        TreeMap<Integer, TreeSet<String>> blocks = new TreeMap<>();
        TreeSet<String> other = new TreeSet<>();
        for (Module m : modules) {
            Matcher b = BLOCK.matcher(m.path());
            if (b.matches()) {
                blocks.computeIfAbsent(Integer.parseInt(b.group(1)), k -> new TreeSet<>(MODULE_ORDER)).add(b.group(2));
            } else {
                other.add(m.path());
            }
        }
        // blocks with the same module set are listed together
        Map<TreeSet<String>, List<Integer>> groups = new LinkedHashMap<>();
        blocks.forEach((block, mods) -> groups.computeIfAbsent(mods, k -> new ArrayList<>()).add(block));

        Map<Long, Integer> ranks = new TreeMap<>();
        Map<String, Integer> alphas = new TreeMap<>(Comparator.comparingDouble(s -> s.equals("none") ? -1 : Double.parseDouble(s)));
        for (Module m : modules) {
            ranks.merge(m.rank(), 1, Integer::sum);
            alphas.merge(m.alpha() == null ? "none" : number(m.alpha()), 1, Integer::sum);
        }
        List<String> lines = new ArrayList<>();
        String head = "LoRA: " + modules.size() + " modules, " + style + "; " + counted("rank", ranks) + ", " + counted("alpha", alphas);
        if (ranks.size() == 1 && alphas.size() == 1 && modules.getFirst().alpha() != null) {
            head += " (scale alpha/rank = " + number(modules.getFirst().alpha() / modules.getFirst().rank()) + ")";
        } else if (alphas.containsKey("none")) {
            head += " (a missing alpha means alpha = rank)";
        }
        lines.add(head);
        List<Map<String, Object>> jsonGroups = new ArrayList<>();
        groups.forEach((mods, blockList) -> {
            lines.add("  " + (blockList.size() == 1 ? "block " : "blocks ") + ranges(blockList) + ": " + describeModules(mods));
            Map<String, Object> g = new LinkedHashMap<>();
            g.put("blocks", blockList.stream().map(Long::valueOf).toList());
            g.put("modules", List.copyOf(mods));
            jsonGroups.add(g);
        });
        if (!other.isEmpty()) {
            lines.add("  outside blocks: " + String.join(", ", other));
        }
        problems.forEach(p -> lines.add("  warning: " + p));

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("style", style);
        json.put("modules", (long) modules.size());
        json.put("ranks", ranks.keySet().stream().toList());
        json.put("alphas", modules.stream().map(Module::alpha).filter(a -> a != null).distinct().sorted().toList());
        json.put("blocks", blocks.keySet().stream().map(Long::valueOf).toList());
        json.put("groups", jsonGroups);
        json.put("other_modules", List.copyOf(other));
        json.put("problems", problems);
        return new FileSummary("lora", lines, json);
    }

    private static String counted(String what, Map<?, Integer> values) {
        if (values.size() == 1) {
            return what + " " + values.keySet().iterator().next();
        }
        List<String> parts = new ArrayList<>();
        values.forEach((v, n) -> parts.add(v + " (" + n + " modules)"));
        return what + "s " + String.join(", ", parts);
    }

    /** {@code self_attn.q k v o, cross_attn.q k v o, ffn.0 ffn.2}: children named once per parent, numbers in full. */
    static String describeModules(Iterable<String> sorted) {
        Map<String, List<String>> byParent = new LinkedHashMap<>();
        for (String m : sorted) {
            int dot = m.lastIndexOf('.');
            byParent.computeIfAbsent(dot < 0 ? "" : m.substring(0, dot), k -> new ArrayList<>()).add(dot < 0 ? m : m.substring(dot + 1));
        }
        List<String> parts = new ArrayList<>();
        byParent.forEach((parent, children) -> {
            boolean numeric = children.stream().allMatch(c -> c.chars().allMatch(Character::isDigit));
            if (parent.isEmpty() || numeric) {
                parts.add(String.join(" ", children.stream().map(c -> parent.isEmpty() ? c : parent + "." + c).toList()));
            } else {
                parts.add(parent + "." + String.join(" ", children));
            }
        });
        return String.join(", ", parts);
    }

    /** {@code [0, 1, 2, 3, 6, 8, 9]} → {@code 0-3, 6, 8-9}. */
    static String ranges(List<Integer> sorted) {
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < sorted.size(); ) {
            int j = i;
            while (j + 1 < sorted.size() && sorted.get(j + 1) == sorted.get(j) + 1) {
                j++;
            }
            parts.add(i == j ? String.valueOf(sorted.get(i)) : sorted.get(i) + "-" + sorted.get(j));
            i = j + 1;
        }
        return String.join(", ", parts);
    }

    /** 4.0 → "4", 0.5 → "0.5". */
    static String number(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : String.valueOf(v);
    }
}
