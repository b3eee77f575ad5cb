package dev.loraid.core.lora;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.nn.Linear;
import java.util.Map;

/**
 * The trainable branch of one Linear in a {@link LoraNetwork}, of any of the network modules ({@link NetworkModule}):
 * its tensors are saved, resumed and optimised by their key suffixes, so the trainer needs to know no algorithm.
 */
public interface NetworkAdapter extends Linear.Adapter {
    /** The module's name in files, e.g. {@code lora_unet_blocks_3_self_attn_q}. */
    String loraName();

    /** The alpha saved beside the tensors (the update's scale is alpha / rank). */
    double alpha();

    /** The adapter's tensors by key suffix ({@code .lora_down.weight}, {@code .hada_w1_a}, …), in file order. */
    Map<String, Parameter> parameters();

    double multiplier();

    void setMultiplier(double multiplier);

    /** Dropouts act only in training mode (off after construction). */
    void setTraining(boolean training);

    @Override
    default boolean trainable() {
        return parameters().values().stream().anyMatch(Parameter::requiresGrad);
    }
}
