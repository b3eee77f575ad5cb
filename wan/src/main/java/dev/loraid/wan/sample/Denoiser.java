package dev.loraid.wan.sample;

import dev.loraid.tensor.Tensor;

/** One DiT (one expert) with its prompt contexts: the raw velocity of one pass at latent x and timestep t. */
@FunctionalInterface
public interface Denoiser {
    /** The passes a guided step can ask for (training.md §6.4). */
    enum Branch {
        /** The prompt's context. */
        COND,
        /** The negative prompt's context. */
        UNCOND,
        /** The negative prompt's context with the skip-layer-guidance blocks skipped. */
        UNCOND_SKIPPED
    }

    Tensor predict(Tensor x, double t, Branch branch);
}
