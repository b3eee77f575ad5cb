package dev.loraid.core.generate;

import dev.loraid.tensor.Tensor;

/**
 * Turns a prompt into the DiT's text conditioning: tokenizer + UMT5, output trimmed to the prompt's real tokens
 * [L, text_dim] (spec training.md §4.6), on the host. Closing it frees the encoder (the trainer encodes its sample
 * prompts once, then closes it, as upstream frees T5).
 */
public interface TextEncoder extends AutoCloseable {
    Tensor encode(String prompt);

    @Override
    void close();
}
