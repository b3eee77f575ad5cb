package dev.loraid.core.lora;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.nn.Init;
import dev.loraid.autograd.nn.Linear;
import dev.loraid.core.ParameterException;
import java.util.Arrays;

/**
 * {@code --network_module}: what kind of adapter a training run puts on each selected Linear (training.md §2.2, §2.10),
 * named as upstream names the Python module, which it also writes into {@code ss_network_module}.
 */
public enum NetworkModule {
    LORA("networks.lora_wan", "LoRA", 1),
    LOHA("networks.loha", "LoHa", 3),
    LOKR("networks.lokr", "LoKr", 2);

    private final String moduleName;
    private final String label;
    private final int streams;

    NetworkModule(String moduleName, String label, int streams) {
        this.moduleName = moduleName;
        this.label = label;
        this.streams = streams;
    }

    public String moduleName() {
        return moduleName;
    }

    /** The algorithm's name in messages: LoRA, LoHa, LoKr. */
    public String label() {
        return label;
    }

    public static NetworkModule of(String name) {
        return Arrays.stream(values()).filter(m -> m.moduleName.equals(name)).findFirst()
                .orElseThrow(() -> new ParameterException(named(param("NetworkConfig.module"), " " + name
                        + " is not supported (known: " + String.join(", ", Arrays.stream(values()).map(NetworkModule::moduleName)
                        .toList()) + ")")));
    }

    /**
     * A fresh trainable adapter on {@code layer} whose update is zero, initialised as upstream initialises it from the
     * random streams {@code seed} … {@code seed + streams() − 1}.
     *
     * @param factor LoKr's {@code factor} network argument (−1: balanced); ignored by the others
     */
    NetworkAdapter create(String loraName, Linear layer, int rank, double alpha, LoraAdapter.Dropouts dropouts, int factor,
            long seed) {
        int in = Math.toIntExact(layer.inFeatures());
        int out = Math.toIntExact(layer.outFeatures());
        return switch (this) {
            case LORA -> new LoraAdapter(loraName, Init.kaimingUniform(in, seed, rank, in), Parameter.zeros(out, rank), alpha,
                    dropouts);
            case LOHA -> new LohaAdapter(loraName, Init.normal(0.1, seed, out, rank), Init.normal(1.0, seed + 1, rank, in),
                    Parameter.zeros(out, rank), Init.normal(1.0, seed + 2, rank, in), alpha, dropouts);
            case LOKR -> {
                int[] o = LokrAdapter.factorization(out, factor);
                int[] i = LokrAdapter.factorization(in, factor);
                Parameter w1 = Init.kaimingUniform(i[0], seed, o[0], i[0]);
                yield LokrAdapter.wholeW2(out, in, rank, factor)
                        ? new LokrAdapter(loraName, w1, Parameter.zeros(o[1], i[1]), null, null, rank, dropouts)
                        : new LokrAdapter(loraName, w1, null, Init.kaimingUniform(rank, seed + 1, o[1], rank),
                                Parameter.zeros(rank, i[1]), alpha, dropouts);
            }
        };
    }

    /** How many random streams one module's initialisation uses (LoRA one, as before LoHa and LoKr existed). */
    int streams() {
        return streams;
    }
}
