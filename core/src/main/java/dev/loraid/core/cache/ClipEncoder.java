package dev.loraid.core.cache;

import dev.loraid.tensor.Tensor;

/**
 * The CLIP side of Wan 2.1 I2V caching and generation (spec wan.md §5.4, training.md §4.5): an image [3, H, W] in
 * [−1, 1] → its CLIP tokens [257, 1280] ({@code clip_fea}). {@link ClipCheckpointEncoder} is Wan's encoder; tests give
 * stand-ins.
 */
public interface ClipEncoder {
    Tensor encode(Tensor image);
}
