package dev.loraid.core.cache;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
/**
 * musubi-tuner's caching flags (spec training.md §4.5-4.6).
 *
 * @param skipExisting keep a cache file that already exists instead of recomputing it ({@code --skip_existing})
 * @param keepCache    leave cache files of the cache directory that this run did not produce ({@code --keep_cache});
 *                     without it they are deleted, except those of items that failed with {@code skipErrors}
 * @param batchSize    clips of one bucket encoded together; null: the dataset's batch_size ({@code --batch_size})
 * @param skipErrors   report a bad item and go on instead of stopping ({@code --skip_errors}, loraid's own)
 * @param i2v          also write each clip's I2V conditioning {@code latents_image_*} ({@code --i2v}; §4.5)
 * @param oneFrame     one-frame caches of image datasets with control images ({@code --one_frame}, musubi
 *                     docs/wan_1f.md): needs a CLIP encoder
 */
public record CacheOptions(boolean skipExisting, boolean keepCache, Integer batchSize, boolean skipErrors, boolean i2v,
        boolean oneFrame) {
    public static final CacheOptions DEFAULTS = new CacheOptions(false, false, null, false, false);

    /** Without one-frame caching. */
    public CacheOptions(boolean skipExisting, boolean keepCache, Integer batchSize, boolean skipErrors, boolean i2v) {
        this(skipExisting, keepCache, batchSize, skipErrors, i2v, false);
    }

    public CacheOptions {
        if (batchSize != null && batchSize < 1) {
            throw new ParameterException(named(param("CacheOptions.batchSize"), " must be ≥ 1, got " + batchSize));
        }
    }
}
