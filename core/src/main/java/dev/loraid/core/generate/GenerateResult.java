package dev.loraid.core.generate;

import dev.loraid.tensor.Tensor;

import java.util.Map;

/**
 * A finished generation: the denoised latent [C, F, H, W] (F32, on the host) and every parameter that made it, as
 * string metadata (the keys the latent file gets; upstream's {@code seeds}, {@code height}, … plus this project's).
 */
public record GenerateResult(Tensor latent, long seed, Map<String, String> metadata) {
}
