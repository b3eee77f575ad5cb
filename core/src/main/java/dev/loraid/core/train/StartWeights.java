package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.autograd.Parameter;
import dev.loraid.core.Floats;
import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.LoraFile;
import dev.loraid.core.lora.LoraFiles;
import dev.loraid.core.lora.LoraKeys;
import dev.loraid.core.lora.LoraModule;
import dev.loraid.core.lora.LoraNetwork;
import dev.loraid.core.lora.LoraWeights;
import dev.loraid.core.lora.LycorisModule;
import dev.loraid.core.lora.NetworkAdapter;
import dev.loraid.core.lora.NetworkModule;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --network_weights} (training.md §2.7): the tensors a run starts from, by key ({@code <module>.lora_down.weight},
 * {@code <module>.hada_w1_a}, …), and with {@code --dim_from_weights} the rank and alpha they imply. A LoRA file is
 * read through {@link LoraWeights} (diffusers names converted, conv-shaped factors flattened); a LoHa or LoKr file as
 * written, its keys being the network's own.
 */
final class StartWeights {
    private final String source;
    private final NetworkModule module;
    private final Map<String, Tensor> tensors;
    private final Map<String, Double> alphas;

    private StartWeights(String source, NetworkModule module, Map<String, Tensor> tensors, Map<String, Double> alphas) {
        this.source = source;
        this.module = module;
        this.tensors = tensors;
        this.alphas = alphas;
    }

    static StartWeights read(Path file, NetworkModule module, Reporter reporter) {
        LoraFile f = LoraFiles.read(file);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, Double> alphas = new LinkedHashMap<>();
        if (module == NetworkModule.LORA) {
            for (LoraModule m : LoraWeights.of(f, reporter).modules().values()) {
                tensors.put(m.loraName() + LoraKeys.Part.DOWN.musubiSuffix(), m.down().reshape(m.rank(), -1));
                tensors.put(m.loraName() + LoraKeys.Part.UP.musubiSuffix(), m.up().reshape(m.up().size(0), m.rank()));
                alphas.put(m.loraName(), m.alpha());
            }
        } else {
            String wanted = module == NetworkModule.LOHA ? "loha" : "lokr";
            f.tensors().forEach((key, t) -> {
                String part = LycorisModule.partOf(key);
                if (part == null) {
                    throw new LoraidException(named(param("NetworkConfig.weights"), " " + f.source() + ": " + key
                            + " is not <module>.<part>"));
                }
                String module0 = key.substring(0, key.length() - part.length() - 1);
                if (part.equals("alpha")) {
                    Floats.requireFinite(f.source(), key, t);
                    alphas.put(module0, t.to(Device.CPU).toDoubleArray()[0]);
                } else if (wanted.equals(LycorisModule.algorithmOf(part))) {
                    Floats.requireFinite(f.source(), key, t);
                    tensors.put(key, t);
                } else {
                    String kind = LycorisModule.algorithmOf(part);
                    throw new LoraidException(named(param("NetworkConfig.weights"), " " + f.source() + ": " + key + " is "
                            + (kind == null ? "not a " + wanted + " tensor" : "a " + kind + " tensor") + ", the network is "
                            + module.moduleName()));
                }
            });
        }
        return new StartWeights(f.source(), module, tensors, alphas);
    }

    /** {@code --dim_from_weights}: the rank every module of the file shares. */
    int uniformRank() {
        int rank = -1;
        String first = null;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String key = e.getKey();
            Tensor t = e.getValue();
            int r;
            if (key.endsWith(LoraKeys.Part.DOWN.musubiSuffix()) || key.endsWith(".hada_w1_b")) {
                r = (int) t.size(0);
            } else if (key.endsWith(".lokr_w2_a")) {
                r = (int) t.size(1);
            } else if (key.endsWith(".lokr_w2")) {
                r = (int) Math.max(t.size(0), t.size(1)); // as upstream: large enough for the whole-matrix w2
            } else {
                continue;
            }
            if (rank >= 0 && r != rank) {
                throw new LoraidException(named(param("NetworkConfig.dimFromWeights"), ": " + source + " mixes ranks ("
                        + rank + " at " + first + " and " + r + " at " + key + "); per-module ranks are not supported"));
            }
            rank = r;
            first = key;
        }
        if (rank < 0) {
            throw new LoraidException(named(param("NetworkConfig.dimFromWeights"), ": " + source + " holds no "
                    + module.moduleName() + " module"));
        }
        return rank;
    }

    /** {@code --dim_from_weights}: the alpha of the file's first module (its rank when it has none). */
    double firstAlpha() {
        return alphas.isEmpty() ? uniformRank() : alphas.values().iterator().next();
    }

    /** Every adapter takes its tensors from the file; modules the file lacks start fresh, with a warning. */
    void loadInto(LoraNetwork net, Reporter reporter) {
        List<String> missing = new ArrayList<>();
        for (NetworkAdapter a : net.adapters().values()) {
            Map<String, Parameter> params = a.parameters();
            if (params.keySet().stream().noneMatch(s -> tensors.containsKey(a.loraName() + s))) {
                missing.add(a.loraName());
                continue;
            }
            params.forEach((suffix, p) -> {
                Tensor t = tensors.get(a.loraName() + suffix);
                if (t == null || !t.shape().equals(p.shape())) {
                    throw new LoraidException(named(param("NetworkConfig.weights"), " " + source + ": " + a.loraName()
                            + suffix + (t == null ? " is missing" : " is " + t.shape()) + " but the network's is " + p.shape()
                            + " (use the same ", param("NetworkConfig.dim"), ", network module and factor, or ",
                            param("NetworkConfig.dimFromWeights"), ")"));
                }
            });
            Double alpha = alphas.get(a.loraName());
            if (alpha != null && alpha != a.alpha()) {
                reporter.warn(named(param("NetworkConfig.weights"), " " + source + ": " + a.loraName() + " has alpha "
                        + alpha + ", the network " + a.alpha() + "; training keeps " + a.alpha()));
            }
            params.forEach((suffix, p) -> p.copyFrom(tensors.get(a.loraName() + suffix)));
        }
        if (!missing.isEmpty()) {
            reporter.warn(named(param("NetworkConfig.weights"), " " + source + " has no weights for " + missing.size()
                    + " module(s), first " + missing.getFirst() + ": they start fresh"));
        }
    }
}
