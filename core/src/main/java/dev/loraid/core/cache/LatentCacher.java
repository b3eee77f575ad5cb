package dev.loraid.core.cache;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.data.BucketSelector;
import dev.loraid.core.data.DatasetConfig;
import dev.loraid.core.data.DatasetSpec;
import dev.loraid.core.data.Size;
import dev.loraid.core.generate.OneFrame;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes the latent caches of a dataset config (spec training.md §4.3-4.5, upstream {@code wan_cache_latents.py}):
 * each image, or each frame crop of each video, resized to its bucket, normalised to x/127.5 - 1, encoded, and saved
 * as {@code latents_{F}x{H}x{W}_{dtype}} with upstream's metadata. Images use the dataset's bucket selector and the
 * original size in the file name; videos always bucket (enable_bucket on, no_upscale off) by their first frame and
 * carry the bucket size. Clips of one shape are encoded {@code batch_size} at a time. With {@code --i2v} each file also
 * holds the clip's I2V conditioning {@code latents_image_{F}x{H}x{W}_{dtype}} (mask + first-frame latent, §4.5); with a
 * CLIP encoder ({@code --clip}, which implies it, as upstream) also the first frame's CLIP tokens {@code clip_{dtype}},
 * stored as F16 under the latent dtype's name (vae-t5.md §5). A video with a Fun-Control video (control_directory,
 * or a JSONL line's control_path) also gets {@code latents_control_{F}x{H}x{W}_{dtype}}: the control video decoded like
 * the video, padded by repeating its last frame or truncated to the video's frame count (§4.2), each frame resized to the
 * video's bucket (as upstream's fetch_and_resize), cropped to the same windows and encoded; an image with a control image
 * gets the control image's latent, resized to the image's bucket. With {@code --one_frame} (musubi docs/wan_1f.md)
 * image datasets with control images and fp_1f_* keys are cached for one-frame training instead (see
 * {@link #oneFrame}).
 */
public final class LatentCacher {
    private final LatentEncoder encoder;
    private final Path workingDir;
    private final CacheOptions options;
    private final Reporter reporter;
    private final ClipEncoder clip;

    public LatentCacher(LatentEncoder encoder, Path workingDir, CacheOptions options, Reporter reporter) {
        this(encoder, null, workingDir, options, reporter);
    }

    /** With {@code clip} non-null each file also holds the I2V conditioning and the first frame's CLIP tokens. */
    public LatentCacher(LatentEncoder encoder, ClipEncoder clip, Path workingDir, CacheOptions options, Reporter reporter) {
        this.encoder = encoder;
        this.clip = clip;
        this.workingDir = workingDir;
        this.options = options;
        this.reporter = reporter;
    }

    private boolean i2v() {
        return options.i2v() || clip != null;
    }

    /** One clip waiting for the encoder. */
    private record Pending(SourceItem item, Path file, Map<String, String> metadata, Tensor pixels, Tensor control) {
    }

    public CacheSummary run(DatasetConfig config) {
        if (options.oneFrame()) {
            checkOneFrame(config);
        }
        List<List<SourceItem>> sources = CacheSources.listAll(config, workingDir);
        long total = sources.stream().mapToLong(List::size).sum();
        CacheRun run = new CacheRun(options, reporter, "latents", total);
        for (int d = 0; d < config.datasets().size(); d++) {
            DatasetSpec spec = config.datasets().get(d);
            CacheRun.createDirectory(spec.cacheDirectory());
            int batchSize = options.batchSize() != null ? options.batchSize() : spec.batchSize();
            Map<List<Long>, List<Pending>> pending = new LinkedHashMap<>();
            for (SourceItem item : sources.get(d)) {
                try {
                    if (options.oneFrame()) {
                        oneFrame(spec, item, run);
                        run.itemDone();
                        continue;
                    }
                    List<Pending> clips = spec.isVideo() ? videoClips(spec, item, run) : imageClip(spec, item, run);
                    for (Pending p : clips) {
                        List<Pending> batch = pending.computeIfAbsent(List.of(p.pixels().size(1),
                            p.pixels().size(2), p.pixels().size(3)), k -> new ArrayList<>());
                        batch.add(p);
                        if (batch.size() >= batchSize) {
                            flush(batch, run);
                        }
                    }
                } catch (RuntimeException e) {
                    run.failed(item, e);
                }
                run.itemDone();
            }
            for (List<Pending> batch : pending.values()) {
                flush(batch, run);
            }
            run.finishDataset(spec, CacheNames.LATENT_SUFFIX, CacheNames.TEXT_SUFFIX);
        }
        return run.summary();
    }

    private List<Pending> imageClip(DatasetSpec spec, SourceItem item, CacheRun run) {
        RgbImage img = Images.read(item.media());
        Size original = img.size();
        Path file = spec.cacheDirectory().resolve(CacheNames.imageLatent(item.stem(), original));
        if (run.keepExisting(file)) {
            return List.of();
        }
        Size bucket = spec.bucketSelector().select(original);
        checkBucket(item, bucket);
        Map<String, String> meta = metadata(original, null);
        // upstream encodes an image's first control image as its latents_control
        Tensor control = item.controls().isEmpty() ? null
            : pixels(List.of(Resize.toBucket(Images.read(item.controls().getFirst()), bucket)));
        return List.of(new Pending(item, file, meta, pixels(List.of(Resize.toBucket(img, bucket))), control));
    }

    /** Refuses a one-frame run that upstream's one-frame caching could not do, before any work. */
    private void checkOneFrame(DatasetConfig config) {
        if (clip == null) {
            throw new LoraidException(named(param("CacheOptions.oneFrame"), " needs a CLIP encoder (",
                param("LatentCacher.clip"), "): one-frame caches hold the control images' CLIP tokens (upstream asserts it)"));
        }
        for (DatasetSpec spec : config.datasets()) {
            String where = "datasets[" + spec.index() + "]: one-frame caching: ";
            if (spec.isVideo()) {
                throw new LoraidException(where + "a video dataset; one-frame caches come from image datasets with control "
                    + "images");
            }
            if (spec.fp1fCleanIndices() == null || spec.fp1fTargetIndex() == null) {
                throw new LoraidException(where + "give fp_1f_clean_indices and fp_1f_target_index (e.g. [0] and 1)");
            }
            if (spec.fp1fCleanIndices().isEmpty() || spec.fp1fCleanIndices().size() > 2) {
                throw new LoraidException(where + "fp_1f_clean_indices " + spec.fp1fCleanIndices() + ": one or two control "
                    + "images, as upstream's one-frame training takes");
            }
            if (spec.controlDirectory() == null && spec.imageJsonlFile() == null) {
                throw new LoraidException(where + "give control_directory (the control images)");
            }
            oneFrameOf(spec);
        }
    }

    private static OneFrame oneFrameOf(DatasetSpec spec) {
        try {
            return new OneFrame(spec.fp1fTargetIndex(), spec.fp1fCleanIndices());
        } catch (LoraidException e) {
            throw new LoraidException("datasets[" + spec.index() + "]: fp_1f_clean_indices / fp_1f_target_index: "
                + e.getMessage(), e);
        }
    }

    /**
     * One image's one-frame cache (upstream's encode_and_save_batch_one_frame): its control images and the image, each
     * resized to the image's bucket and encoded alone, as latent frames at the sorted positions of fp_1f_clean_indices and
     * fp_1f_target_index ({@code latents}); {@code latents_image} with a mask of 1 and the control latent on control frames,
     * a mask of 0 and a zero (grey) frame's latent on the target's; the control images' CLIP tokens [n, 257, 1280] (F16,
     * as the bucket-sized images upstream gives CLIP); {@code f_indices} (I32), the positions.
     */
    private void oneFrame(DatasetSpec spec, SourceItem item, CacheRun run) {
        RgbImage img = Images.read(item.media());
        Size original = img.size();
        Path file = spec.cacheDirectory().resolve(CacheNames.imageLatent(item.stem(), original));
        if (run.keepExisting(file)) {
            return;
        }
        if (item.controls().isEmpty()) {
            throw new LoraidException(item.media() + ": no control images (one-frame caching needs them)");
        }
        Size bucket = spec.bucketSelector().select(original);
        checkBucket(item, bucket);
        OneFrame positions = oneFrameOf(spec);
        List<RgbImage> controls = new ArrayList<>();
        List<Tensor> frames = new ArrayList<>();
        for (Path c : item.controls()) {
            controls.add(Resize.toBucket(Images.read(c), bucket));
            frames.add(pixels(List.of(controls.getLast())));
        }
        frames.add(pixels(List.of(Resize.toBucket(img, bucket))));
        frames.add(Tensor.zeros(DType.F32, 3, 1, bucket.height(), bucket.width()));
        List<Tensor> latents = new ArrayList<>(encode(frames)); // each frame alone: the VAE groups frames after the first
        Tensor grey = latents.removeLast();
        latents.add(positions.targetFrame(), latents.removeLast()); // the image's latent, at the target's place
        Tensor l = OneFrameConditioning.frames(latents);
        Tensor y = OneFrameConditioning.y(latents, positions.targetFrame(), grey);
        // one or two control images (checkOneFrame): their tokens one after the other, then one set per image
        Tensor tokens = ImageConditioning.tokens(controls.getFirst(), controls.size() > 1 ? controls.get(1) : null, clip);
        int[] f = positions.framePositions();
        int n = f.length;
        long h = l.size(2);
        long w = l.size(3);
        String dtype = LatentEncoder.torchName(encoder.dtype());
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put(CacheNames.latentKey(n, h, w, dtype), l.to(encoder.dtype()));
        tensors.put(CacheNames.clipKey(dtype), tokens.reshape(controls.size(), tokens.size(0) / controls.size(), tokens.size(1))
            .to(DType.F16));
        tensors.put(CacheNames.imageLatentKey(n, h, w, dtype), y.to(encoder.dtype()));
        long[] fl = java.util.Arrays.stream(f).asLongStream().toArray();
        tensors.put(CacheNames.FRAME_INDICES_KEY, Tensor.ofLongs(fl, n).to(DType.I32));
        try {
            SafetensorsWriter.write(file, tensors, metadata(original, null));
        } catch (IOException e) {
            throw new LoraidException(file + ": cannot write the latent cache (" + e.getMessage() + ")", e);
        }
        run.wrote(file);
    }

    private List<Pending> videoClips(DatasetSpec spec, SourceItem item, CacheRun run) {
        List<Integer> targets = FrameExtraction.roundTargetFrames(spec.targetFrames());
        String mode = spec.frameExtraction();
        int limit = FrameExtraction.decodeLimit(mode, targets, spec.maxFrames());
        Videos.FrameFilter filter = FrameExtraction.filter(spec.sourceFps(), limit);
        List<RgbImage> frames = Videos.read(item.media(), filter);
        // §4.3: videos always bucket by their first frame, whatever the dataset's enable_bucket says
        Size bucket = new BucketSelector(spec.resolution(), true, false).select(frames.getFirst().size());
        checkBucket(item, bucket);
        List<FrameExtraction.Crop> crops = FrameExtraction.crops(mode, frames.size(), targets, spec.frameStride(),
            spec.frameSample(), spec.maxFrames());
        if (crops.isEmpty()) {
            reporter.warn(item.media() + ": " + frames.size() + " frames, too few for target_frames " + targets
                + " (" + mode + "): no latent cache");
        }
        List<RgbImage> resized = new ArrayList<>(frames.size());
        for (RgbImage f : frames) {
            if (!f.size().equals(frames.getFirst().size())) {
                throw new LoraidException(item.media() + ": frames change size (" + frames.getFirst().size() + " then "
                    + f.size() + ")");
            }
            resized.add(null);
        }
        List<RgbImage> control = crops.isEmpty() || item.controls().isEmpty() ? null
            : controlFrames(item.controls().getFirst(), filter, frames.size(), bucket);
        List<Pending> out = new ArrayList<>();
        for (FrameExtraction.Crop c : crops) {
            Path file = spec.cacheDirectory().resolve(CacheNames.videoLatent(item.stem(), c.start(), c.length(), bucket));
            if (run.keepExisting(file)) {
                continue;
            }
            List<RgbImage> clip = new ArrayList<>(c.length());
            for (int i = c.start(); i < c.start() + c.length(); i++) {
                if (resized.get(i) == null) {
                    resized.set(i, Resize.toBucket(frames.get(i), bucket));
                }
                clip.add(resized.get(i));
            }
            out.add(new Pending(item, file, metadata(bucket, c.length()), pixels(clip),
                control == null ? null : pixels(control.subList(c.start(), c.start() + c.length()))));
        }
        return out;
    }

    /** The control video's frames, {@code count} of them (the last repeated, or the rest dropped), at the bucket size. */
    private static List<RgbImage> controlFrames(Path control, Videos.FrameFilter filter, int count, Size bucket) {
        List<RgbImage> decoded = Videos.read(control, filter);
        List<RgbImage> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(i < decoded.size() ? Resize.toBucket(decoded.get(i), bucket) : out.getLast());
        }
        return out;
    }

    private void checkBucket(SourceItem item, Size bucket) {
        int s = encoder.spatialFactor();
        if (bucket.width() < s || bucket.height() < s || bucket.width() % s != 0 || bucket.height() % s != 0) {
            throw new LoraidException(item.media() + ": bucket " + bucket + " cannot be encoded (the VAE needs sides "
                + "that are multiples of " + s + ", at least " + s + ")");
        }
    }

    /** §4.5 metadata, in the key order of upstream's first fixture file. */
    static Map<String, String> metadata(Size size, Integer frameCount) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format_version", CacheNames.FORMAT_VERSION);
        m.put("architecture", CacheNames.ARCHITECTURE);
        m.put("width", Integer.toString(size.width()));
        m.put("height", Integer.toString(size.height()));
        if (frameCount != null) {
            m.put("frame_count", Integer.toString(frameCount));
        }
        return m;
    }

    /** Frames [H, W, 3] uint8 → [3, F, H, W] F32, x/127.5 - 1 (vae-t5.md §1.5). */
    public static Tensor pixels(List<RgbImage> frames) {
        int f = frames.size();
        int h = frames.getFirst().height();
        int w = frames.getFirst().width();
        float[] out = new float[3 * f * h * w];
        for (int t = 0; t < f; t++) {
            byte[] rgb = frames.get(t).rgb();
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int c = 0; c < 3; c++) {
                        out[((c * f + t) * h + y) * w + x] = (rgb[(y * w + x) * 3 + c] & 0xFF) / 127.5f - 1f;
                    }
                }
            }
        }
        return Tensor.of(out, 3, f, h, w);
    }

    private void flush(List<Pending> batch, CacheRun run) {
        if (batch.isEmpty()) {
            return;
        }
        List<Pending> items = List.copyOf(batch);
        batch.clear();
        List<Tensor> latents;
        List<Tensor> firstFrames = null;
        List<Tensor> clips = null;
        List<Tensor> controls = null;
        try {
            List<Tensor> in = new ArrayList<>(items.size());
            for (Pending p : items) {
                in.add(p.pixels());
            }
            latents = encode(in);
            if (i2v()) {
                firstFrames = encode(in.stream().map(c -> ImageConditioning.clip(c.narrow(1, 0, 1), c.size(1))).toList());
            }
            if (items.stream().anyMatch(p -> p.control() != null)) {
                controls = encodeControls(items);
            }
            if (clip != null) {
                clips = in.stream().map(c -> clip.encode(c.narrow(1, 0, 1).reshape(3, c.size(2), c.size(3)))).toList();
            }
        } catch (RuntimeException e) {
            for (Pending p : items) {
                run.failed(p.item(), e);
            }
            return;
        }
        for (int i = 0; i < items.size(); i++) {
            Pending p = items.get(i);
            try {
                write(p, latents.get(i), firstFrames == null ? null : firstFrames.get(i), clips == null ? null : clips.get(i),
                    controls == null ? null : controls.get(i));
                run.wrote(p.file());
            } catch (RuntimeException e) {
                run.failed(p.item(), e);
            }
        }
    }

    /** The control latents of the items that have a control video, null for the others. */
    private List<Tensor> encodeControls(List<Pending> items) {
        List<Tensor> in = items.stream().map(Pending::control).filter(Objects::nonNull).toList();
        Iterator<Tensor> encoded = encode(in).iterator();
        List<Tensor> out = new ArrayList<>(items.size());
        for (Pending p : items) {
            out.add(p.control() == null ? null : encoded.next());
        }
        return out;
    }

    private List<Tensor> encode(List<Tensor> clips) {
        List<Tensor> latents = encoder.encodeBatch(clips);
        if (latents.size() != clips.size()) {
            throw new LoraidException("the latent encoder returned " + latents.size() + " latents for " + clips.size()
                + " clips");
        }
        return latents;
    }

    private void write(Pending p, Tensor latent, Tensor firstFrame, Tensor clipTokens, Tensor control) {
        if (latent.rank() != 4) {
            throw new LoraidException(p.file() + ": the latent encoder returned " + latent.shape()
                + ", expected [C, F, H, W]");
        }
        long frames = p.pixels().size(1);
        long expectF = (frames - 1) / 4 + 1;
        int s = encoder.spatialFactor();
        if (latent.size(1) != expectF || latent.size(2) * s != p.pixels().size(2)
            || latent.size(3) * s != p.pixels().size(3)) {
            throw new LoraidException(p.file() + ": the latent encoder returned " + latent.shape() + " for pixels "
                + p.pixels().shape() + ", expected [C, " + expectF + ", " + p.pixels().size(2) / s + ", "
                + p.pixels().size(3) / s + "]");
        }
        float[] v = latent.to(Device.CPU).toFloatArray();
        int nans = 0;
        for (int i = 0; i < v.length; i++) {
            if (Float.isNaN(v[i])) {
                v[i] = 0f;
                nans++;
            }
        }
        if (nans > 0) {
            // §4.5: upstream replaces NaN by 0 with a warning
            reporter.warn(p.file().getFileName() + ": " + nans + " NaN values in the latent replaced by 0");
        }
        Tensor stored = Tensor.of(v, latent.shape().toArray()).to(encoder.dtype());
        String dtype = LatentEncoder.torchName(encoder.dtype());
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put(CacheNames.latentKey(latent.size(1), latent.size(2), latent.size(3), dtype), stored);
        if (firstFrame != null) {
            if (!firstFrame.shape().equals(latent.shape())) {
                throw new LoraidException(p.file() + ": the I2V conditioning latent is " + firstFrame.shape() + ", the clip's "
                    + latent.shape());
            }
            long c = latent.size(0);
            float[] y = ImageConditioning.withMask(firstFrame.to(Device.CPU).toFloatArray(), c, latent.size(1), latent.size(2),
                latent.size(3));
            tensors.put(CacheNames.imageLatentKey(latent.size(1), latent.size(2), latent.size(3), dtype),
                Tensor.of(y, 4 + c, latent.size(1), latent.size(2), latent.size(3)).to(encoder.dtype()));
        }
        if (control != null) {
            if (!control.shape().equals(latent.shape())) {
                throw new LoraidException(p.file() + ": the control latent is " + control.shape() + ", the clip's "
                    + latent.shape());
            }
            tensors.put(CacheNames.controlLatentKey(latent.size(1), latent.size(2), latent.size(3), dtype),
                control.to(Device.CPU).to(encoder.dtype()));
        }
        if (clipTokens != null) {
            // upstream casts CLIP's output to float16 and names it after the latent dtype (vae-t5.md §5)
            tensors.put(CacheNames.clipKey(dtype), clipTokens.to(Device.CPU).to(DType.F16));
        }
        try {
            SafetensorsWriter.write(p.file(), tensors, p.metadata());
        } catch (IOException e) {
            throw new LoraidException(p.file() + ": cannot write the latent cache (" + e.getMessage() + ")", e);
        }
    }
}
