package dev.loraid.core.lora;

import dev.loraid.core.Floats;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code loraid convert} (training.md §7): musubi ("default") ⇄ diffusers/ComfyUI ("other") key layouts.
 * To "other", alpha is baked into both factors ({@code × sqrt(alpha/rank)}, upstream behaviour) unless
 * {@code keepAlpha}, which writes {@code <prefix>.<module>.alpha} instead (ComfyUI reads it) and makes the round
 * trip byte-exact for any alpha. To "default", a module without alpha gets alpha = rank (scale 1, the same update).
 */
public final class LoraConverter {
    /** The two key layouts: musubi's {@code lora_unet_…} ("default") and diffusers/ComfyUI's ("other"). */
    public enum Format {
        MUSUBI, DIFFUSERS
    }

    private LoraConverter() {
    }

    /**
     * Reads {@code in}, checks it as merge does (keys, down/up pairs, ranks, finite values), converts it to
     * {@code to} and writes {@code out}; a file already in {@code to}'s layout is refused. {@code prefix} and
     * {@code keepAlpha} apply to {@link Format#DIFFUSERS} ({@link #toDiffusers}). Returns what was written.
     */
    public static LoraFile convert(Path in, Path out, Format to, String prefix, boolean keepAlpha, Reporter reporter) {
        LoraFile lora = LoraFiles.read(in);
        LoraInputs.check(lora, reporter);
        if (isDiffusers(lora.tensors()) == (to == Format.DIFFUSERS)) {
            throw new LoraidException(in + " is already in " + (to == Format.DIFFUSERS ? "diffusers/ComfyUI" : "musubi") + " format");
        }
        LoraFile converted = to == Format.DIFFUSERS ? toDiffusers(lora, prefix, keepAlpha) : toMusubi(lora, reporter);
        LoraFiles.write(converted, out);
        return converted;
    }

    public static LoraFile toDiffusers(LoraFile in, String prefix, boolean keepAlpha) {
        TreeMap<String, Tensor> out = new TreeMap<>();
        List<String> unknown = new ArrayList<>();
        for (var e : in.tensors().entrySet()) {
            LoraKeys.Key k = LoraKeys.parse(e.getKey());
            if (k == null) {
                unknown.add(e.getKey());
                continue;
            }
            String module = LoraKeys.modulePath(k.loraName());
            Tensor alpha = in.tensors().get(k.loraName() + LoraKeys.Part.ALPHA.musubiSuffix());
            Tensor t = e.getValue();
            if (k.part() == LoraKeys.Part.ALPHA) {
                if (keepAlpha) {
                    out.put(LoraKeys.diffusersKey(prefix, module, k.part()), t);
                }
                continue;
            }
            if (!keepAlpha && alpha != null) {
                Tensor down = in.tensors().get(k.loraName() + LoraKeys.Part.DOWN.musubiSuffix());
                if (down == null) {
                    throw new LoraidException(in.source() + ": module " + k.loraName() + " has no lora_down to take the rank from");
                }
                double factor = Math.sqrt(Floats.read(alpha)[0] / down.size(0));
                t = scaled(t, factor);
            }
            out.put(LoraKeys.diffusersKey(prefix, module, k.part()), t);
        }
        if (!unknown.isEmpty()) {
            throw new LoraidException(in.source() + ": " + unknown.size() + " key(s) not in musubi format (lora_unet_…), first "
                    + unknown.getFirst());
        }
        return new LoraFile(in.source(), out, in.metadata());
    }

    public static LoraFile toMusubi(LoraFile in, Reporter reporter) {
        TreeMap<String, Tensor> out = new TreeMap<>();
        List<String> dropped = new ArrayList<>();
        for (var e : in.tensors().entrySet()) {
            LoraKeys.Key k = LoraKeys.parseDiffusers(e.getKey());
            if (k == null) {
                dropped.add(e.getKey());
                continue;
            }
            if (out.put(k.musubi(), e.getValue()) != null) {
                throw new LoraidException(in.source() + ": two tensors map to " + k.musubi());
            }
        }
        if (!dropped.isEmpty()) {
            reporter.warn(in.source() + ": " + dropped.size() + " key(s) outside diffusion_model./transformer. dropped, first " + dropped.getFirst());
        }
        if (out.isEmpty()) {
            throw new LoraidException(in.source() + ": no diffusers/ComfyUI LoRA keys (diffusion_model.<module>.lora_A.weight …)");
        }
        for (String key : List.copyOf(out.keySet())) {
            LoraKeys.Key k = LoraKeys.parse(key);
            String alphaKey = k.loraName() + LoraKeys.Part.ALPHA.musubiSuffix();
            if (k.part() == LoraKeys.Part.DOWN && !out.containsKey(alphaKey)) {
                out.put(alphaKey, Tensor.scalar(out.get(key).size(0)));
            }
        }
        return new LoraFile(in.source(), out, in.metadata());
    }

    private static Tensor scaled(Tensor t, double factor) {
        float[] v = Floats.read(t);
        float f = (float) factor;
        for (int i = 0; i < v.length; i++) {
            v[i] *= f;
        }
        return Floats.write(v, t.shape(), t.dtype());
    }

    /** True if the file is in diffusers/ComfyUI layout (its first key parses as one). */
    public static boolean isDiffusers(Map<String, Tensor> tensors) {
        return !tensors.isEmpty() && LoraKeys.parseDiffusers(tensors.keySet().iterator().next()) != null;
    }
}
