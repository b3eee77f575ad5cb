package dev.loraid.cli;

import dev.loraid.core.cache.ClipCheckpointEncoder;
import dev.loraid.core.cache.ControlConditioning;
import dev.loraid.core.LoraidException;
import dev.loraid.core.cache.ImageConditioning;
import dev.loraid.core.cache.OneFrameConditioning;
import dev.loraid.core.cache.VaeLatentEncoder;
import dev.loraid.core.generate.GenerateRequest;
import dev.loraid.core.generate.Generator;
import dev.loraid.core.generate.OneFrame;
import dev.loraid.core.generate.SamplePrompts;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanVariant;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.cli.CommandLine;

/**
 * {@code generate}'s start images for image-to-video tasks (wan.md §2): which file each generation takes
 * ({@code --image_path}, or a {@code --from_file} line's {@code --i}), what encodes them ({@code --vae}, and
 * {@code --clip} for Wan 2.1 I2V), and a request conditioned on one.
 */
final class StartImages {
    private StartImages() {
    }

    /**
     * Each generation's start image: --image_path, or a prompt-file line's --i (else --image_path); none for a
     * text-to-video task, which refuses them.
     */
    static List<String> paths(CommandLine cl, WanVariant task, Path fromFile, List<SamplePrompts.Entry> entries) {
        String flag = cl.getOptionValue("image_path");
        if (task.config().inDim() == task.config().outDim() || controlOnly(task)) {
            if (flag != null) {
                throw new UsageException("--image_path: --task " + task.name() + " is not an image-to-video task (i2v-14B and "
                        + "i2v-A14B are" + (controlOnly(task) ? "; i2v-14B-FC takes a start image beside the control video" : "")
                        + ")");
            }
            for (SamplePrompts.Entry e : entries) {
                if (e.options().containsKey("image_path")) {
                    throw new UsageException(e.where() + ": a start image (--i), but --task " + task.name()
                            + " is text-to-video");
                }
            }
            return List.of();
        }
        if (fromFile == null) {
            if (flag == null) {
                throw new UsageException("--task " + task.name() + " is image-to-video: give --image_path (and --vae)");
            }
            return List.of(flag);
        }
        List<String> out = new ArrayList<>();
        for (SamplePrompts.Entry e : entries) {
            String image = e.options().getOrDefault("image_path", flag);
            if (image == null) {
                throw new UsageException(e.where() + ": --task " + task.name() + " is image-to-video: give the line a start "
                        + "image (--i) or --image_path");
            }
            out.add(image);
        }
        return out;
    }

    /**
     * Each generation's end image: for a first-last-frame task (flf2v-14B) --end_image_path, or a prompt-file line's --ei
     * (else --end_image_path); null for every other task, which refuses them. {@code count} generations.
     */
    static List<String> endPaths(CommandLine cl, WanVariant task, Path fromFile, List<SamplePrompts.Entry> entries, int count) {
        return perGeneration(cl, task, task.config().imagePositions(), END_IMAGE, fromFile, entries, count);
    }

    /**
     * Each generation's control video: for a Fun-Control task (i2v-14B-FC) --control_path, or a prompt-file line's --cn
     * (else --control_path); null for every other task, which refuses them. {@code count} generations.
     */
    static List<String> controlPaths(CommandLine cl, WanVariant task, Path fromFile, List<SamplePrompts.Entry> entries,
            int count) {
        return perGeneration(cl, task, task.name().endsWith("-FC"), CONTROL_VIDEO, fromFile, entries, count);
    }

    /**
     * An input that some tasks take per generation: a flag, which a prompt-file line's option overrides.
     *
     * @param flag   the command-line flag
     * @param key    the prompt-file option ({@link SamplePrompts}' long name)
     * @param noun   what a line gives, with its short flag ("an end image (--ei)")
     * @param kind   the tasks that take it ("first-last-frame")
     * @param sample a task that does ("flf2v-14B")
     * @param give   what to give when it is missing, after the flag
     */
    private record PerGeneration(String flag, String key, String noun, String kind, String sample, String give) {
    }

    private static final PerGeneration END_IMAGE = new PerGeneration("end_image_path", "end_image_path", "an end image (--ei)",
            "first-last-frame", "flf2v-14B", " too");
    private static final PerGeneration CONTROL_VIDEO = new PerGeneration("control_path", "control_video_path",
            "a control video (--cn)", "Fun-Control", "i2v-14B-FC", " (a video or a folder of frames)");

    private static List<String> perGeneration(CommandLine cl, WanVariant task, boolean takesIt, PerGeneration p, Path fromFile,
            List<SamplePrompts.Entry> entries, int count) {
        String flag = cl.getOptionValue(p.flag());
        if (!takesIt) {
            if (flag != null) {
                throw new UsageException("--" + p.flag() + ": --task " + task.name() + " is not a " + p.kind() + " task ("
                        + p.sample() + " is)");
            }
            for (SamplePrompts.Entry e : entries) {
                if (e.options().containsKey(p.key())) {
                    throw new UsageException(e.where() + ": " + p.noun() + ", but --task " + task.name() + " is not a "
                            + p.kind() + " task");
                }
            }
            return java.util.Collections.nCopies(count, null);
        }
        if (fromFile == null) {
            if (flag == null) {
                throw new UsageException("--task " + task.name() + " is " + p.kind() + ": give --" + p.flag() + p.give());
            }
            return java.util.Collections.nCopies(count, flag);
        }
        List<String> out = new ArrayList<>();
        for (SamplePrompts.Entry e : entries) {
            String value = e.options().getOrDefault(p.key(), flag);
            if (value == null) {
                throw new UsageException(e.where() + ": --task " + task.name() + " is " + p.kind() + ": give the line "
                        + p.noun() + " or --" + p.flag());
            }
            out.add(value);
        }
        return out;
    }

    /**
     * T2V Fun-Control (t2v-1.3B-FC, t2v-14B-FC): upstream's T2V path, conditioned on the control video alone (y: its
     * latents and zeros), without a start image or CLIP tokens.
     */
    static boolean controlOnly(WanVariant task) {
        return task.config().funControl() && Generator.isTextToVideo(task);
    }

    /** What encodes the start images: the VAE (y), and for a task with the CLIP branch (Wan 2.1 I2V) the CLIP too. */
    record Encoders(VaeLatentEncoder vae, ClipCheckpointEncoder clip) implements AutoCloseable {
        @Override
        public void close() {
            try (VaeLatentEncoder v = vae; ClipCheckpointEncoder c = clip) {
                // both closed, the CLIP first
            }
        }
    }

    /** The encoders of {@code task}'s start images: --vae always, --clip (Wan's CLIP file) for Wan 2.1 I2V. */
    static Encoders encoders(CommandLine cl, WanVariant task) {
        Path vae = CliArgs.path(cl, "vae");
        if (vae == null) {
            throw new UsageException("image-to-video needs --vae: the start image is VAE-encoded");
        }
        Path clip = CliArgs.path(cl, "clip");
        if (controlOnly(task) && clip != null) {
            throw new UsageException("--clip: --task " + task.name() + " takes no CLIP tokens (upstream's T2V path; i2v-14B-FC "
                    + "takes a start image and its tokens)");
        }
        if (task.config().imageBranch() && clip == null && !controlOnly(task)) {
            throw new UsageException("--task " + task.name() + " takes the start image's CLIP tokens: give --clip (Wan's "
                    + "models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth)");
        }
        if (!task.config().imageBranch() && clip != null) {
            throw new UsageException("--clip: --task " + task.name() + " has no CLIP image branch (Wan 2.1 i2v-14B has)");
        }
        VaeLatentEncoder v = VaeLatentEncoder.open(vae, CliArgs.path(cl, "vae_latent_stats"), DType.F32, CliArgs.device(cl));
        try {
            return new Encoders(v, clip == null ? null : ClipCheckpointEncoder.open(clip, CliArgs.device(cl)));
        } catch (RuntimeException e) {
            v.close();
            throw e;
        }
    }

    /**
     * A start image (wan.md §2, musubi's prepare_i2v_inputs): the video size from the image's aspect ratio at the area of
     * the asked size, y from the encoding of the image followed by zero frames, and for Wan 2.1 I2V the image's CLIP
     * tokens; with {@code endFile} (first-last-frame) the end image closes the clip, with {@code control} (Fun-Control) the
     * control video's latents go in front; with {@code oneFrame} the image gives the size and the CLIP tokens only (the
     * control images make y). The file names go to the metadata. {@code where} names the flag or prompt-file
     * line in errors.
     */
    static GenerateRequest apply(GenerateRequest req, Path file, Path endFile, Path control, String where, Encoders encoders,
            OneFrameInput oneFrame) {
        if (oneFrame != null) {
            return applyOneFrame(req, file, endFile, where, encoders, oneFrame);
        }
        ImageConditioning.StartImage start;
        try {
            start = ImageConditioning.read(file, endFile, req.width(), req.height(), req.frames(), req.task(), encoders.vae(),
                    encoders.clip());
        } catch (IllegalArgumentException e) {
            throw new UsageException(where + ": start image " + file + (endFile == null ? "" : " / end image " + endFile) + ": "
                    + e.getMessage());
        }
        Tensor y = start.y();
        if (control != null) {
            y = controlled(control, y, req.frames(), start.width(), start.height(), where, encoders);
        }
        Map<String, String> extra = metadata(req, file, endFile);
        if (control != null) {
            extra.put("control_path", control.getFileName().toString());
        }
        return req.withSize(start.height(), start.width(), req.frames()).withText(req.context(), req.negativeContext(), extra)
                .withImageConditioning(y, start.clip());
    }

    /**
     * T2V Fun-Control (upstream's prepare_t2v_inputs): y from the control video at the asked size, its latents followed
     * by zeros; no CLIP tokens.
     */
    static GenerateRequest applyControl(GenerateRequest req, Path control, String where, Encoders encoders) {
        Tensor y = controlled(control, null, req.frames(), req.width(), req.height(), where, encoders);
        Map<String, String> extra = new LinkedHashMap<>(req.extraMetadata());
        extra.put("control_path", control.getFileName().toString());
        return req.withText(req.context(), req.negativeContext(), extra).withImageConditioning(y, null);
    }

    /**
     * Fun-Control's y: the control video's first {@code frames} frames at {@code width × height}, encoded, in front of the
     * start image's conditioning {@code imageY} (or zeros without one).
     */
    private static Tensor controlled(Path control, Tensor imageY, int frames, int width, int height, String where,
            Encoders encoders) {
        try {
            return ControlConditioning.of(ControlConditioning.latents(control, frames, width, height, encoders.vae()), imageY,
                    "control video " + control);
        } catch (IllegalArgumentException e) {
            throw new UsageException(where + ": control video " + control + ": " + e.getMessage());
        }
    }

    /** {@code --one_frame_inference} and its {@code --control_image_path} images. */
    record OneFrameInput(OneFrame spec, List<Path> controls) {
    }

    /**
     * The one-frame inference of this command line, or null without {@code --one_frame_inference} (then
     * {@code --control_image_path} is refused): an image-to-video task, one control image per control position.
     */
    static OneFrameInput oneFrame(CommandLine cl, WanVariant task) {
        String[] images = cl.getOptionValues("control_image_path");
        if (!cl.hasOption("one_frame_inference")) {
            if (images != null) {
                throw new UsageException("--control_image_path is for one-frame inference: give --one_frame_inference too");
            }
            return null;
        }
        if (task.config().inDim() == task.config().outDim() || task.name().endsWith("-FC")) {
            throw new UsageException("--one_frame_inference: --task " + task.name() + " is not an image-to-video task "
                    + "(one-frame inference runs i2v-14B, flf2v-14B or i2v-A14B)");
        }
        OneFrame spec;
        try {
            spec = OneFrame.parse(cl.getOptionValue("one_frame_inference"));
        } catch (LoraidException e) {
            throw new UsageException("--one_frame_inference: " + e.getMessage());
        }
        List<Path> controls = images == null ? List.of() : java.util.Arrays.stream(images).map(Path::of).toList();
        if (controls.size() != spec.controlIndices().size()) {
            throw new UsageException("--control_image_path: " + controls.size() + " image(s) for control_index "
                    + spec.controlIndices() + ": give one image per control position");
        }
        return new OneFrameInput(spec, controls);
    }

    /**
     * One-frame inference from a start image (musubi's prepare_one_frame_inference): the size and CLIP tokens as for a
     * start image (with an end image's tokens for FLF2V), y from the control images, one generated frame.
     */
    private static GenerateRequest applyOneFrame(GenerateRequest req, Path file, Path endFile, String where,
            Encoders encoders, OneFrameInput oneFrame) {
        ImageConditioning.StartImage start;
        Tensor y;
        try {
            start = ImageConditioning.sizeAndTokens(file, endFile, req.width(), req.height(), req.task(), encoders.clip());
            y = OneFrameConditioning.y(oneFrame.spec().framePositions(), oneFrame.spec().targetFrame(), oneFrame.controls(),
                    start.width(), start.height(), encoders.vae());
        } catch (IllegalArgumentException e) {
            throw new UsageException(where + ": one-frame inference from " + file + ": " + e.getMessage());
        }
        Map<String, String> extra = metadata(req, file, endFile);
        extra.put("control_image_path", String.join(" ", oneFrame.controls().stream()
                .map(p -> p.getFileName().toString()).toList()));
        return req.withSize(start.height(), start.width(), 1).withText(req.context(), req.negativeContext(), extra)
                .withOneFrame(oneFrame.spec(), y, start.clip());
    }

    /** The request's metadata with the start (and end) image's file names added. */
    private static Map<String, String> metadata(GenerateRequest req, Path file, Path endFile) {
        Map<String, String> extra = new LinkedHashMap<>(req.extraMetadata());
        extra.put("image_path", file.getFileName().toString());
        if (endFile != null) {
            extra.put("end_image_path", endFile.getFileName().toString());
        }
        return extra;
    }
}
