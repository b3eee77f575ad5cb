package dev.loraid.core.data;

import java.nio.file.Path;

/**
 * One cached training item (spec training.md §4.5–4.7): a latent cache file and the text cache it pairs with.
 *
 * @param itemKey      the latent file name split on {@code _} less its last 2 (image) or 3 (video) tokens;
 *                     both crops of a video share it, and with it the text cache
 * @param latentCache  {@code <cache_dir>/<stem>[_<start>-<len>]_<W>x<H>_wan.safetensors}
 * @param textCache    {@code <cache_dir>/<itemKey>_wan_te.safetensors}
 * @param originalSize the W×H in the file name: the original image size, or for videos the bucket size upstream
 *                     writes there (§4.5)
 * @param bucketSize   the bucket selector's choice for {@code originalSize}
 * @param frameStart   video crops: the first frame; null for images
 * @param frameCount   video crops: the crop's frame count; null for images
 */
public record CacheItem(
    String itemKey,
    Path latentCache,
    Path textCache,
    BucketKey bucketKey,
    Size originalSize,
    Size bucketSize,
    Integer frameStart,
    Integer frameCount) {
}
