package dev.loraid.wan;

import dev.loraid.tensor.Tensor;

/**
 * Receives named intermediates of a forward pass (the names of the golden files: {@code tokens}, {@code e0},
 * {@code block0.self_attn_out}, {@code head_out} …), for parity checks against other implementations. A tapped
 * tensor lives in the forward pass's memory scope: copy what you keep.
 */
@FunctionalInterface
public interface WanTaps {
    WanTaps NONE = (name, t) -> { };

    void put(String name, Tensor value);
}
