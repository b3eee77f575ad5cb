package dev.loraid.core.lora;

import dev.loraid.tensor.Tensor;

/**
 * One adapted layer of a LoRA file: {@code down} [r, in] (or [r, in, kh, kw]), {@code up} [out, r] (or
 * [out, r, 1, 1]) and alpha; the update it stands for is {@code (alpha / r) · up @ down} (training.md §2.2).
 *
 * @param loraName     e.g. {@code lora_unet_blocks_3_self_attn_q}
 * @param alphaInFile  false when the file had no alpha and alpha defaulted to the rank
 */
public record LoraModule(String loraName, Tensor down, Tensor up, double alpha, boolean alphaInFile) {
    public int rank() {
        return (int) down.size(0);
    }

    public double scale() {
        return alpha / rank();
    }

    /** The dotted module path, e.g. {@code blocks.3.self_attn.q}. */
    public String modulePath() {
        return LoraKeys.modulePath(loraName);
    }
}
