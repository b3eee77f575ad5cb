package dev.loraid.cli;

import dev.loraid.core.cache.ImageConditioning;
import dev.loraid.core.cache.LatentEncoder;
import dev.loraid.core.cache.VaeLatentEncoder;
import dev.loraid.core.generate.GenerateRequest;
import dev.loraid.core.generate.SamplePrompts;
import dev.loraid.tensor.DType;
import dev.loraid.wan.WanVariant;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.cli.CommandLine;

/**
 * {@code generate}'s start images for image-to-video tasks (wan.md §2): which file each generation takes
 * ({@code --image_path}, or a {@code --from_file} line's {@code --i}), the VAE that encodes them ({@code --vae}), and a
 * request conditioned on one.
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
                throw new UsageException("--image_path: --task " + task.name() + " is not an image-to-video task (i2v-A14B is)");
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

    /** The VAE that encodes the start images (--vae is required for image-to-video). */
    static VaeLatentEncoder encoder(CommandLine cl) {
        Path vae = CliArgs.path(cl, "vae");
        if (vae == null) {
            throw new UsageException("image-to-video needs --vae: the start image is VAE-encoded");
        }
        return VaeLatentEncoder.open(vae, CliArgs.path(cl, "vae_latent_stats"), DType.F32, CliArgs.device(cl));
    }

    /**
     * A start image (wan.md §2, musubi's prepare_i2v_inputs): the video size from the image's aspect ratio at the area of
     * the asked size, and y from the encoding of the image followed by zero frames; the file name goes to the metadata.
     * {@code where} names the flag or prompt-file line in errors.
     */
    static GenerateRequest apply(GenerateRequest req, Path file, String where, LatentEncoder encoder) {
        ImageConditioning.StartImage start;
        try {
            start = ImageConditioning.read(file, req.width(), req.height(), req.frames(), req.task(), encoder);
        } catch (IllegalArgumentException e) {
            throw new UsageException(where + ": start image " + file + ": " + e.getMessage());
        }
        Map<String, String> extra = new LinkedHashMap<>(req.extraMetadata());
        extra.put("image_path", file.getFileName().toString());
        return req.withSize(start.height(), start.width(), req.frames()).withText(req.context(), req.negativeContext(), extra)
                .withImageConditioning(start.y());
    }
}
