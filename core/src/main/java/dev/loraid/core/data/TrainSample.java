package dev.loraid.core.data;

import dev.loraid.tensor.Tensor;

/**
 * One item of a loaded batch (spec training.md §4.7): host tensors copied out of its cache files, each in the
 * dtype of the file's header. Within a batch all samples have the same latents / latentsImage / clip /
 * latentsControl shapes and presence; t5 lengths differ (upstream keeps them as a list).
 *
 * @param latents        [C, F, H, W] VAE latents
 * @param t5             [L, D] umT5 states, L = the caption's token count
 * @param latentsImage   I2V conditioning [4 + C, F, H, W], or null
 * @param clip           Wan 2.1 I2V CLIP features [257, 1280] (F16), or null
 * @param latentsControl Fun-Control latents [C, F, H, W], or null
 */
public record TrainSample(
    String itemKey,
    Tensor latents,
    Tensor t5,
    Tensor latentsImage,
    Tensor clip,
    Tensor latentsControl) {
}
