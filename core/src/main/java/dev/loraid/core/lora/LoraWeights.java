package dev.loraid.core.lora;

import dev.loraid.core.Floats;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The checked module view of a Wan LoRA file (spec loraid.md REQ-MERGE-1, issue 6 "bad input"): every tensor is
 * a known part of a Wan DiT module, in musubi or diffusers/ComfyUI layout (the latter converted on load); each
 * module has down and up with matching rank; values are finite. Alpha missing → alpha = rank, with a warning.
 */
public record LoraWeights(LoraFile file, SortedMap<String, LoraModule> modules) {
    /** Module names a Wan DiT has: the block layers and the non-block Linear/Conv layers. */
    private static final Pattern WAN_MODULE = Pattern.compile(
            "lora_unet_(blocks_\\d+_\\w+|patch_embedding|text_embedding_\\d+|time_embedding_\\d+|time_projection_\\d+|head_head|img_emb_\\w+)");

    public LoraWeights {
        modules = Collections.unmodifiableSortedMap(modules);
    }

    public String source() {
        return file.source();
    }

    public static LoraWeights of(LoraFile file, Reporter reporter) {
        Map<String, Map<LoraKeys.Part, Tensor>> parts = new TreeMap<>();
        List<String> unknown = new ArrayList<>();
        List<String> foreign = new ArrayList<>();
        for (var e : file.tensors().entrySet()) {
            LoraKeys.Key k = LoraKeys.parse(e.getKey());
            if (k == null) {
                k = LoraKeys.parseDiffusers(e.getKey());
            }
            if (k == null) {
                unknown.add(e.getKey());
                continue;
            }
            if (!WAN_MODULE.matcher(k.loraName()).matches()) {
                foreign.add(e.getKey());
                continue;
            }
            Tensor prev = parts.computeIfAbsent(k.loraName(), n -> new EnumMap<>(LoraKeys.Part.class)).put(k.part(), e.getValue());
            if (prev != null) {
                throw new LoraidException(file.source() + ": two tensors map to " + k.musubi() + " (musubi and diffusers names mixed?)");
            }
        }
        if (!unknown.isEmpty()) {
            boolean lycoris = unknown.stream().map(LycorisModule::partOf)
                    .anyMatch(p -> p != null && LycorisModule.algorithmOf(p) != null);
            String what = file.source() + ": " + unknown.size() + " unrecognised LoRA key(s), first " + first(unknown);
            if (lycoris) {
                throw new LoraidException(dev.loraid.core.ParameterText.named(what + " (LyCORIS LoKr/LoHa/full tensors: "
                        + "generation and merging take such files whole, as with ", dev.loraid.core.ParameterText.param("LoraSelection.lycoris"),
                        ", without LORAID ids or key patterns)"));
            }
            throw new LoraidException(what + " (expected lora_unet_<module>.lora_down.weight/.lora_up.weight/.alpha or "
                    + "diffusion_model.<module>.lora_A/lora_B.weight)");
        }
        if (!foreign.isEmpty()) {
            throw new LoraidException(file.source() + ": " + foreign.size() + " key(s) are not Wan DiT modules, first " + first(foreign)
                    + " (a LoRA for another architecture?)");
        }
        if (parts.isEmpty()) {
            throw new LoraidException(file.source() + ": no LoRA tensors");
        }
        SortedMap<String, LoraModule> modules = new TreeMap<>();
        List<String> defaulted = new ArrayList<>();
        for (var e : parts.entrySet()) {
            String name = e.getKey();
            Tensor down = e.getValue().get(LoraKeys.Part.DOWN);
            Tensor up = e.getValue().get(LoraKeys.Part.UP);
            Tensor alphaT = e.getValue().get(LoraKeys.Part.ALPHA);
            if (down == null || up == null) {
                throw new LoraidException(file.source() + ": module " + name + " has " + (down == null ? "lora_up but no lora_down" : "lora_down but no lora_up"));
            }
            if (down.rank() < 2 || !(up.rank() == 2 || up.rank() == 4) || up.size(1) != down.size(0)) {
                throw new LoraidException(file.source() + ": module " + name + ": rank mismatch between lora_down " + down.shape()
                        + " (rank = first dimension) and lora_up " + up.shape() + " (rank = second dimension)");
            }
            Floats.requireFinite(file.source(), name + LoraKeys.Part.DOWN.musubiSuffix(), down);
            Floats.requireFinite(file.source(), name + LoraKeys.Part.UP.musubiSuffix(), up);
            double alpha;
            if (alphaT == null) {
                alpha = down.size(0);
                defaulted.add(name);
            } else {
                if (alphaT.numel() != 1) {
                    throw new LoraidException(file.source() + ": " + name + ".alpha must be a scalar, got shape " + alphaT.shape());
                }
                alpha = Floats.read(alphaT)[0];
                if (!Double.isFinite(alpha)) {
                    throw new LoraidException(file.source() + ": " + name + ".alpha is " + alpha);
                }
            }
            modules.put(name, new LoraModule(name, down, up, alpha, alphaT != null));
        }
        if (!defaulted.isEmpty()) {
            reporter.warn(file.source() + ": " + defaulted.size() + " module(s) without alpha, using alpha = rank (scale 1), first "
                    + defaulted.getFirst());
        }
        return new LoraWeights(file, modules);
    }

    private static String first(List<String> keys) {
        return keys.getFirst();
    }
}
