package dev.loraid.core.data;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * One {@code [[datasets]]} entry after the lookup dataset → {@code [general]} → default (spec training.md §4.1).
 * Paths are resolved (see {@link DatasetConfigReader}); optional values are null when absent. Keys that matter only
 * at caching time (frame extraction, control, one-frame parameters, …) are validated and kept but unused by
 * training.
 *
 * @param index              position in the file's {@code datasets} array, from 0
 * @param kind               image iff image_directory or image_jsonl_file is set; video iff video_directory or
 *                           video_jsonl_file is set
 * @param resolution         [width, height], default 960×544
 * @param cacheDirectory     cache_directory, defaulting to image_directory / video_directory
 * @param fpLatentWindowSize default 9; part of image bucket keys (§4.7)
 * @param targetFrames       video only (default [1]); as written, not yet rounded to 4k+1
 * @param sourceFps          video only, may be null
 */
public record DatasetSpec(
    int index,
    Kind kind,
    Size resolution,
    String captionExtension,
    int batchSize,
    int numRepeats,
    boolean enableBucket,
    boolean bucketNoUpscale,
    Path imageDirectory,
    Path imageJsonlFile,
    Path videoDirectory,
    Path videoJsonlFile,
    Path controlDirectory,
    Path cacheDirectory,
    int fpLatentWindowSize,
    boolean multipleTarget,
    List<Integer> fp1fCleanIndices,
    Integer fp1fTargetIndex,
    boolean fp1fNoPost,
    boolean noResizeControl,
    Size controlResolution,
    List<Integer> targetFrames,
    String frameExtraction,
    int frameStride,
    int frameSample,
    int maxFrames,
    Double sourceFps) {

    public enum Kind {
        IMAGE, VIDEO;

        /** "image" or "video", as upstream's messages and metadata spell it. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public boolean isVideo() {
        return kind == Kind.VIDEO;
    }

    /** The bucket selector training uses for this dataset (§4.4). */
    public BucketSelector bucketSelector() {
        return new BucketSelector(resolution, enableBucket, bucketNoUpscale);
    }
}
