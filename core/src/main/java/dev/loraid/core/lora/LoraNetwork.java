package dev.loraid.core.lora;

import dev.loraid.autograd.Module;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.nn.Linear;
import dev.loraid.core.Floats;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.plan.BlockCount;
import dev.loraid.core.plan.ModuleSelector;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A set of {@link NetworkAdapter}s attached to the Linear layers of a DiT (training.md §2.1, §2.6). The base model keeps
 * its names and weights; {@link #detach()} restores it exactly. Either created for training (selected modules, LoRA,
 * LoHa or LoKr adapters initialised as upstream, their update zero) or attached from a LoRA file for inference at a
 * multiplier; several networks (one per
 * LORAID file) may be attached to one model as long as they adapt different layers. Adapters live on the device of
 * the layer they adapt (a model moved with {@code to(Device)} first gets its LoRAs there too).
 */
public final class LoraNetwork {
    private final Map<String, Linear> layers;
    private final Map<String, NetworkAdapter> adapters;

    private LoraNetwork(Map<String, Linear> layers, Map<String, NetworkAdapter> adapters) {
        this.layers = layers;
        this.adapters = adapters;
    }

    /** The candidate layers of a model: every Linear inside a transformer block ({@code blocks.N.…}), by path. */
    public static Map<String, Linear> candidates(Module model) {
        Map<String, Linear> out = new LinkedHashMap<>();
        model.namedModules().forEach((path, m) -> {
            if (m instanceof Linear l && BlockCount.blockOf(path) >= 0) {
                out.put(path, l);
            }
        });
        return out;
    }

    /** A LoRA network: {@link #create(Module, ModuleSelector, NetworkModule, int, double, LoraAdapter.Dropouts, int, long, Reporter)}. */
    public static LoraNetwork create(Module model, ModuleSelector selector, int rank, double alpha, LoraAdapter.Dropouts dropouts,
            long seed, Reporter reporter) {
        return create(model, selector, NetworkModule.LORA, rank, alpha, dropouts, -1, seed, reporter);
    }

    /**
     * Trainable {@code module} adapters on the modules {@code selector} selects (REQ-ALLOC-6/7), rank {@code rank}, alpha
     * ({@code alpha ≤ 0} means alpha = rank, as upstream), deterministic from {@code seed}; {@code factor} is LoKr's.
     */
    public static LoraNetwork create(Module model, ModuleSelector selector, NetworkModule module, int rank, double alpha,
            LoraAdapter.Dropouts dropouts, int factor, long seed, Reporter reporter) {
        Map<String, Linear> all = candidates(model);
        List<String> chosen = selector.select(new ArrayList<>(all.keySet()), reporter);
        Map<String, Linear> layers = new LinkedHashMap<>();
        Map<String, NetworkAdapter> adapters = new LinkedHashMap<>();
        double a = alpha > 0 ? alpha : rank;
        long s = seed;
        try (MemoryScope outside = MemoryScope.suspend()) {
            for (String path : chosen) {
                Linear l = all.get(path);
                // drawn on the host (the same numbers on every device), then placed beside the layer's weight
                NetworkAdapter adapter = module.create(LoraKeys.loraName(path), l, rank, a, dropouts, factor, s);
                s += module.streams();
                Device device = l.weight().data().device();
                adapter.parameters().values().forEach(p -> p.moveTo(device));
                adapters.put(path, adapter);
                layers.put(path, l);
            }
        }
        return attachAll(layers, adapters);
    }

    /** The modules of a LoRA file on {@code model} at {@code multiplier} (inference: no gradients, no dropout). */
    public static LoraNetwork attach(Module model, LoraWeights weights, double multiplier) {
        Map<String, Linear> all = candidates(model);
        Map<String, Linear> layers = new LinkedHashMap<>();
        Map<String, NetworkAdapter> adapters = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        try (MemoryScope outside = MemoryScope.suspend()) {
            for (LoraModule m : weights.modules().values()) {
                String path = m.modulePath();
                Linear l = all.get(path);
                if (l == null) {
                    missing.add(m.loraName());
                    continue;
                }
                Device device = l.weight().data().device();
                Tensor down = owned(m.down().to(DType.F32).reshape(m.rank(), -1), device);
                Tensor up = owned(m.up().to(DType.F32).reshape(m.up().size(0), m.rank()), device);
                if (down.size(1) != l.inFeatures() || up.size(0) != l.outFeatures()) {
                    throw new LoraidException(weights.source() + ": " + m.loraName() + " is " + up.size(0) + "×" + down.size(1)
                            + " but " + path + " is " + l.outFeatures() + "×" + l.inFeatures());
                }
                LoraAdapter ad = new LoraAdapter(m.loraName(), Parameter.of(down, false), Parameter.of(up, false), m.alpha(),
                        LoraAdapter.Dropouts.NONE);
                ad.setMultiplier(multiplier);
                adapters.put(path, ad);
                layers.put(path, l);
            }
        }
        if (!missing.isEmpty()) {
            throw new LoraidException(weights.source() + ": " + missing.size() + " module(s) have no Linear layer in the model, first "
                    + missing.getFirst());
        }
        return attachAll(layers, adapters);
    }

    /**
     * These same adapters (the same parameter objects) attached to the layers of the same names in {@code other}, a
     * model of the same config: how one LoRA trains through both experts of Wan 2.2 A14B (training.md §1.7).
     */
    public LoraNetwork attachSameTo(Module other) {
        Map<String, Linear> all = candidates(other);
        Map<String, Linear> otherLayers = new LinkedHashMap<>();
        adapters.forEach((path, a) -> {
            Linear l = all.get(path);
            Linear mine = layers.get(path);
            if (l == null || l.inFeatures() != mine.inFeatures() || l.outFeatures() != mine.outFeatures()) {
                throw new LoraidException(path + " has no layer of the same shape in the other model");
            }
            otherLayers.put(path, l);
        });
        return attachAll(otherLayers, adapters);
    }

    /** A copy of {@code t} on {@code device} that outlives the file it was read from. */
    private static Tensor owned(Tensor t, Device device) {
        return device.isCpu() ? t.copy() : t.to(device);
    }

    private static LoraNetwork attachAll(Map<String, Linear> layers, Map<String, NetworkAdapter> adapters) {
        layers.forEach((path, l) -> {
            if (l.adapter() != null) {
                throw new LoraidException(path + " already carries a LoRA: two attached LoRAs adapt the same layer");
            }
        });
        layers.forEach((path, l) -> l.setAdapter(adapters.get(path)));
        return new LoraNetwork(layers, adapters);
    }

    /** Removes every adapter: the model is exactly the base again. */
    public void detach() {
        layers.forEach((path, l) -> {
            if (l.adapter() == adapters.get(path)) {
                l.setAdapter(null);
            }
        });
    }

    /** Moves every adapter's factors to {@code device} (with the model they adapt; {@code Module.to} does not see them). */
    public void moveTo(Device device) {
        adapters.values().forEach(a -> a.parameters().values().forEach(p -> p.moveTo(device)));
    }

    public void setMultiplier(double multiplier) {
        adapters.values().forEach(a -> a.setMultiplier(multiplier));
    }

    public void setTraining(boolean training) {
        adapters.values().forEach(a -> a.setTraining(training));
    }

    /** Adapters by module path, in creation order. */
    public Map<String, NetworkAdapter> adapters() {
        return java.util.Collections.unmodifiableMap(adapters);
    }

    /** The adapters of a LoRA network ({@link NetworkModule#LORA}, or attached from a LoRA file), by module path. */
    public Map<String, LoraAdapter> loraAdapters() {
        Map<String, LoraAdapter> out = new LinkedHashMap<>();
        adapters.forEach((path, a) -> {
            if (!(a instanceof LoraAdapter l)) {
                throw new IllegalStateException(a.loraName() + " is not a LoRA adapter but " + a.getClass().getSimpleName());
            }
            out.put(path, l);
        });
        return out;
    }

    /** The trainable tensors under their keys ({@code lora_unet_….lora_down.weight}, {@code ….hada_w1_a}, …). */
    public Map<String, Parameter> trainableParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        adapters.values().forEach(a -> a.parameters().forEach((suffix, p) -> out.put(a.loraName() + suffix, p)));
        return out;
    }

    /**
     * The network as a LoRA file (every adapter's tensors and its alpha, cast to {@code dtype} and copied to the host),
     * with {@code metadata}.
     */
    public LoraFile toLoraFile(String source, Map<String, String> metadata, DType dtype) {
        TreeMap<String, Tensor> t = new TreeMap<>();
        trainableParameters().forEach((key, p) -> t.put(key, p.data().to(dtype).to(Device.CPU)));
        adapters.values().forEach(a -> t.put(a.loraName() + LoraKeys.Part.ALPHA.musubiSuffix(),
                Floats.write(new float[] {(float) a.alpha()}, Shape.of(), dtype)));
        return new LoraFile(source, t, metadata);
    }
}
