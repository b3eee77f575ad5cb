package dev.loraid.cli;

import dev.loraid.core.cache.ClipCheckpointEncoder;
import dev.loraid.core.cache.ControlConditioning;
import dev.loraid.core.cache.ImageConditioning;
import dev.loraid.core.cache.VaeLatentEncoder;
import dev.loraid.core.generate.GenerateRequest;
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
        if (task.config().inDim() == task.config().outDim()) {
            if (flag != null) {
                throw new UsageException("--image_path: --task " + task.name() + " is not an image-to-video task (i2v-14B and "
                        + "i2v-A14B are)");
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
        String flag = cl.getOptionValue("end_image_path");
        if (!task.config().imagePositions()) {
            if (flag != null) {
                throw new UsageException("--end_image_path: --task " + task.name() + " is not a first-last-frame task (flf2v-14B is)");
            }
            for (SamplePrompts.Entry e : entries) {
                if (e.options().containsKey("end_image_path")) {
                    throw new UsageException(e.where() + ": an end image (--ei), but --task " + task.name()
                            + " is not a first-last-frame task");
                }
            }
            return java.util.Collections.nCopies(count, null);
        }
        List<String> out = new ArrayList<>();
        if (fromFile == null) {
            if (flag == null) {
                throw new UsageException("--task " + task.name() + " is first-last-frame: give --end_image_path too");
            }
            out.add(flag);
            return out;
        }
        for (SamplePrompts.Entry e : entries) {
            String end = e.options().getOrDefault("end_image_path", flag);
            if (end == null) {
                throw new UsageException(e.where() + ": --task " + task.name() + " is first-last-frame: give the line an end "
                        + "image (--ei) or --end_image_path");
            }
            out.add(end);
        }
        return out;
    }

    /** What encodes the start images: the VAE (y), and for a task with the CLIP branch (Wan 2.1 I2V) the CLIP too. */
    record Encoders(VaeLatentEncoder vae, ClipCheckpointEncoder clip, Path control) implements AutoCloseable {
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
        if (task.config().imageBranch() && clip == null) {
            throw new UsageException("--task " + task.name() + " takes the start image's CLIP tokens: give --clip (Wan's "
                    + "models_clip_open-clip-xlm-roberta-large-vit-huge-14.pth)");
        }
        if (!task.config().imageBranch() && clip != null) {
            throw new UsageException("--clip: --task " + task.name() + " has no CLIP image branch (Wan 2.1 i2v-14B has)");
        }
        Path control = CliArgs.path(cl, "control_path");
        boolean funControl = task.name().endsWith("-FC");
        if (funControl && control == null) {
            throw new UsageException("--task " + task.name() + " is Fun-Control: give --control_path (a video or a folder of frames)");
        }
        if (!funControl && control != null) {
            throw new UsageException("--control_path: --task " + task.name() + " is not a Fun-Control task (i2v-14B-FC is)");
        }
        VaeLatentEncoder v = VaeLatentEncoder.open(vae, CliArgs.path(cl, "vae_latent_stats"), DType.F32, CliArgs.device(cl));
        try {
            return new Encoders(v, clip == null ? null : ClipCheckpointEncoder.open(clip, CliArgs.device(cl)), control);
        } catch (RuntimeException e) {
            v.close();
            throw e;
        }
    }

    /**
     * A start image (wan.md §2, musubi's prepare_i2v_inputs): the video size from the image's aspect ratio at the area of
     * the asked size, y from the encoding of the image followed by zero frames, and for Wan 2.1 I2V the image's CLIP
     * tokens; with {@code endFile} (first-last-frame) the end image closes the clip. The file names go to the metadata.
     * {@code where} names the flag or prompt-file line in errors.
     */
    static GenerateRequest apply(GenerateRequest req, Path file, Path endFile, String where, Encoders encoders) {
        ImageConditioning.StartImage start;
        try {
            start = ImageConditioning.read(file, endFile, req.width(), req.height(), req.frames(), req.task(), encoders.vae(),
                    encoders.clip());
        } catch (IllegalArgumentException e) {
            throw new UsageException(where + ": start image " + file + (endFile == null ? "" : " / end image " + endFile) + ": "
                    + e.getMessage());
        }
        Tensor y = start.y();
        if (encoders.control() != null) {
            try {
                y = ControlConditioning.of(ControlConditioning.latents(encoders.control(), req.frames(), start.width(),
                        start.height(), encoders.vae()), y, "--control_path " + encoders.control());
            } catch (IllegalArgumentException e) {
                throw new UsageException("--control_path: " + e.getMessage());
            }
        }
        Map<String, String> extra = new LinkedHashMap<>(req.extraMetadata());
        extra.put("image_path", file.getFileName().toString());
        if (endFile != null) {
            extra.put("end_image_path", endFile.getFileName().toString());
        }
        return req.withSize(start.height(), start.width(), req.frames()).withText(req.context(), req.negativeContext(), extra)
                .withImageConditioning(y, start.clip());
    }
}
