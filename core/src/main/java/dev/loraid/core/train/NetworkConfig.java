package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import dev.loraid.core.Reporter;
import dev.loraid.core.lora.NetworkModule;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * The LoRA network of a training run (training.md §2, loraid.md REQ-ALLOC-9).
 *
 * @param module          {@code --network_module}: LoRA (default), LoHa or LoKr adapters (§2.10)
 * @param dim             {@code --network_dim}, the rank (default 4)
 * @param alpha           {@code --network_alpha} (default 1; 0 means alpha = rank, as upstream)
 * @param dropout         {@code --network_dropout}, neuron dropout on the down projection's output (0 = off)
 * @param args            {@code --network_args} items, each {@code key=value} (parsed by {@link NetworkArgs})
 * @param weights         {@code --network_weights}: start from this LoRA file, or null
 * @param dimFromWeights  {@code --dim_from_weights}: take rank and alpha from {@code weights}
 * @param scaleWeightNorms {@code --scale_weight_norms}: max-norm of every module's ΔW, or null (§2.9)
 * @param loraid          {@code --LORAID}: the one ID this run trains, or null for an ordinary LoRA on every block
 * @param blocksPerLoraid {@code --blocks_per_loraid} P (default 12)
 */
public record NetworkConfig(NetworkModule module, int dim, double alpha, double dropout, List<String> args, Path weights, boolean dimFromWeights,
        Double scaleWeightNorms, Integer loraid, int blocksPerLoraid) {

    public NetworkConfig {
        Objects.requireNonNull(module, "module");
        args = List.copyOf(args);
        NetworkArgs.parse(args, Reporter.SILENT); // fail at configuration time, before any model is opened
        if (dim < 1) {
            throw new ParameterException(named(param("NetworkConfig.dim"), " must be ≥ 1, got " + dim));
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new ParameterException(named(param("NetworkConfig.dropout"), " must be in [0, 1), got " + dropout));
        }
        if (dimFromWeights && weights == null) {
            throw new ParameterException(named(param("NetworkConfig.dimFromWeights"), " needs ",
                    param("NetworkConfig.weights")));
        }
        if (scaleWeightNorms != null && !(scaleWeightNorms > 0)) {
            throw new ParameterException(named(param("NetworkConfig.scaleWeightNorms"), " must be > 0, got "
                    + scaleWeightNorms));
        }
        if (blocksPerLoraid < 1) {
            throw new ParameterException(named(param("NetworkConfig.blocksPerLoraid"), " must be ≥ 1, got "
                    + blocksPerLoraid));
        }
        if (loraid != null && loraid < 1) {
            throw new ParameterException(named(param("NetworkConfig.loraid"), " must be ≥ 1, got " + loraid));
        }
    }

    /** Upstream's defaults: LoRA, rank 4, alpha 1, no dropout, no args, every block. */
    public static NetworkConfig defaults() {
        return new NetworkConfig(NetworkModule.LORA, 4, 1.0, 0, List.of(), null, false, null, null, 12);
    }
}
