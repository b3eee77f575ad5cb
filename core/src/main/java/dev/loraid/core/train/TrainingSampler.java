package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.core.cache.ClipCheckpointEncoder;
import dev.loraid.core.cache.ControlConditioning;
import dev.loraid.core.cache.ImageConditioning;
import dev.loraid.core.cache.OneFrameConditioning;
import dev.loraid.core.cache.VaeLatentEncoder;
import dev.loraid.core.generate.FrameRenderer;
import dev.loraid.core.generate.GenerateOutputs;
import dev.loraid.core.generate.GenerateRequest;
import dev.loraid.core.generate.GenerateResult;
import dev.loraid.core.generate.Generator;
import dev.loraid.core.generate.LatentPreview;
import dev.loraid.core.generate.NegativePrompts;
import dev.loraid.core.generate.OneFrame;
import dev.loraid.core.generate.OutputType;
import dev.loraid.core.generate.SamplePrompt;
import dev.loraid.core.generate.SamplePrompts;
import dev.loraid.core.generate.TextEncoder;
import dev.loraid.core.generate.VaeFrames;
import dev.loraid.core.lora.LoraNetwork;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanVariant;
import dev.loraid.wan.sample.SolverKind;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/**
 * Samples the model as it trains (spec training.md §6.1–6.2): the prompts are encoded once at start-up (then the text
 * encoder is closed), and at each trigger every prompt is generated with the run's current LoRA (dropouts off) through
 * the same {@link Generator} as {@code loraid generate}, UniPC with the prompt's steps, shift, size, seed and CFG
 * scale (the task's default scale and negative prompt when the line gives none); an image-to-video task's prompts give
 * their start image ({@code --i}, taken as {@code generate --image_path} takes it, encoded once at start-up by
 * {@code --vae} on the CPU). With two experts the low-noise one samples the whole run, as upstream. Outputs:
 * {@code <output_dir>/sample/<name>_<e000001|000040>_<NN>_<time>[_<seed>]} as PNG frames, decoded by the VAE
 * ({@code --vae}) or, without one, the latent projection. The training's random streams are untouched: sampling draws
 * from its own seeds.
 */
final class TrainingSampler implements AutoCloseable {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyyMMddHHmmss");

    /** A prompt ready to sample: its text embeddings and, for image-to-video, its start image's y and video size. */
    private record Encoded(SamplePrompt prompt, Tensor context, Tensor negative, Tensor y, Tensor clip, int height, int width,
            OneFrame oneFrame) {
    }

    private final List<Encoded> prompts;
    private final WanVariant task;
    private final TrainConfig config;
    private final FrameRenderer frames;

    private TrainingSampler(List<Encoded> prompts, WanVariant task, TrainConfig config, FrameRenderer frames) {
        this.prompts = prompts;
        this.task = task;
        this.config = config;
        this.frames = frames;
    }

    static TrainingSampler prepare(TrainConfig c, WanVariant task, Reporter reporter) {
        List<SamplePrompt> read = SamplePrompts.read(c.sampling().prompts());
        boolean imageToVideo = task.config().inDim() != task.config().outDim();
        for (SamplePrompt p : read) {
            boolean funControl = task.name().endsWith("-FC");
            if (funControl != (p.controlPath() != null)) {
                throw new LoraidException(c.sampling().prompts() + ": prompt " + p.index() + (funControl
                        ? ": " + task.name() + " is Fun-Control: give the prompt its control video (--cn)"
                        : " has a control video (--cn), but " + task.name() + " is not a Fun-Control task"));
            }
            if (task.config().imagePositions() != (p.endImagePath() != null)) {
                throw new LoraidException(c.sampling().prompts() + ": prompt " + p.index() + (task.config().imagePositions()
                        ? ": " + task.name() + " is first-last-frame: give the prompt its end image (--ei)"
                        : " has an end image (--ei), but " + task.name() + " is not a first-last-frame task"));
            }
            if (c.sampling().oneFrame() != (p.oneFrame() != null)) {
                throw new LoraidException(c.sampling().prompts() + ": prompt " + p.index() + (c.sampling().oneFrame()
                        ? ": one-frame samples (--one_frame): give the prompt its --of (target_index=N,control_index=A)"
                        : " has a one-frame option (--of), but the run samples videos (add --one_frame)"));
            }
            if (p.oneFrame() == null && !p.controlImages().isEmpty()) {
                throw new LoraidException(c.sampling().prompts() + ": prompt " + p.index() + " has control images (--ci) but "
                        + "no --of: they are for one-frame samples");
            }
            if (imageToVideo != (p.imagePath() != null)) {
                throw new LoraidException(c.sampling().prompts() + ": prompt " + p.index() + (imageToVideo
                        ? ": " + task.name() + " is image-to-video: give the prompt its start image (--i)"
                        : " has a start image (--i), but " + task.name() + " is text-to-video"));
            }
        }
        if (imageToVideo && c.vae() == null) {
            throw new LoraidException(c.sampling().prompts() + ": image-to-video samples need --vae, to encode their start images");
        }
        boolean clipBranch = task.config().imageBranch();
        if (clipBranch && c.sampling().clip() == null) {
            throw new LoraidException(named(c.sampling().prompts() + ": samples of " + task.name() + " need the start images' CLIP "
                    + "tokens: give Wan's CLIP file (", param("SampleConfig.clip"), ")"));
        }
        List<Encoded> encoded = new ArrayList<>();
        try (MemoryScope outside = MemoryScope.suspend(); TextEncoder encoder = c.sampling().encoder().apply(task.config().textLen());
             VaeLatentEncoder vae = imageToVideo
                 ? VaeLatentEncoder.open(c.vae(), c.sampling().vaeLatentStats(), DType.F32, Device.CPU) : null;
             ClipCheckpointEncoder clip = clipBranch ? ClipCheckpointEncoder.open(c.sampling().clip(), Device.CPU) : null) {
            for (SamplePrompt p : read) {
                String negative = p.negativePrompt() != null ? p.negativePrompt() : NegativePrompts.forTask(task);
                Tensor context = encoder.encode(p.prompt());
                Tensor negativeContext = encoder.encode(negative);
                if (vae == null) {
                    encoded.add(new Encoded(p, context, negativeContext, null, null, p.height(), p.width(), null));
                    continue;
                }
                String where = c.sampling().prompts() + ": prompt " + p.index();
                if (p.oneFrame() != null) {
                    encoded.add(oneFrame(p, c.workingDir(), vae, clip, context, negativeContext, where));
                    continue;
                }
                // the start image as upstream's training sampler takes it: resized to the prompt's size (§6.2)
                ImageConditioning.StartImage start = ImageConditioning.forSample(c.workingDir().resolve(p.imagePath()),
                        p.endImagePath() == null ? null : c.workingDir().resolve(p.endImagePath()), p.width(), p.height(),
                        p.frameCount(), vae, clip);
                Tensor y = start.y();
                if (p.controlPath() != null) {
                    y = ControlConditioning.of(ControlConditioning.latents(c.workingDir().resolve(p.controlPath()), p.frameCount(),
                            start.width(), start.height(), vae), y, where);
                }
                encoded.add(new Encoded(p, context, negativeContext, y, start.clip(), start.height(), start.width(), null));
            }
        }
        reporter.info("sample prompts: " + encoded.size() + " encoded from " + c.sampling().prompts());
        FrameRenderer frames = c.vae() == null ? LatentPreview.renderer(task.vaeStride())
                // on the CPU: during training the device's memory belongs to the model being trained
                : VaeFrames.open(c.vae(), c.sampling().vaeLatentStats(), Device.CPU);
        return new TrainingSampler(encoded, task, c, frames);
    }

    /**
     * A one-frame prompt, as upstream's training sampler takes it: the prompt's size, the start (and end) image's CLIP
     * tokens, y from the control images ({@code --ci}).
     */
    private static Encoded oneFrame(SamplePrompt p, Path workingDir, VaeLatentEncoder vae,
            ClipCheckpointEncoder clip, Tensor context, Tensor negativeContext, String where) {
        OneFrame spec;
        try {
            spec = OneFrame.parse(p.oneFrame());
        } catch (LoraidException e) {
            throw new LoraidException(where + ": " + e.getMessage(), e);
        }
        List<Path> controls = p.controlImages().stream().map(workingDir::resolve).toList();
        // upstream's training sampler keeps the prompt's size; CLIP sees the images as read
        Tensor tokens = ImageConditioning.tokens(workingDir.resolve(p.imagePath()),
                p.endImagePath() == null ? null : workingDir.resolve(p.endImagePath()), clip);
        Tensor y;
        try {
            y = OneFrameConditioning.y(spec.framePositions(), spec.targetFrame(), controls, p.width(), p.height(), vae);
        } catch (IllegalArgumentException e) {
            throw new LoraidException(where + ": " + e.getMessage(), e);
        }
        return new Encoded(p, context, negativeContext, y, tokens, p.height(), p.width(), spec);
    }

    /** Generates every prompt with {@code model} as it is now; {@code tag} is {@code e000001} or {@code 000040}. */
    List<Path> sample(WanModel model, LoraNetwork net, String tag, Reporter reporter) {
        List<Path> written = new ArrayList<>();
        net.setTraining(false);
        try {
            for (Encoded e : prompts) {
                SamplePrompt p = e.prompt();
                long seed = p.seed() != null ? p.seed() : new SecureRandom().nextInt() & 0xffffffffL;
                GenerateRequest req = GenerateRequest.withTaskDefaults(task, config.dit(), config.ditHighNoise(), seed, e.context(),
                        e.negative()).withSampling(SolverKind.UNIPC, p.steps(), p.flowShift(),
                        p.cfgScale() != null ? p.cfgScale() : task.guidanceLow()).withSize(e.height(), e.width(), p.frameCount())
                        .withDevice(model.device()).withActivations(model.activationDType()); // --mixed_precision's, as upstream's autocast
                if (e.oneFrame() != null) {
                    req = req.withOneFrame(e.oneFrame(), e.y(), e.clip());
                } else if (e.y() != null) {
                    req = req.withImageConditioning(e.y(), e.clip());
                }
                GenerateResult r = Generator.sample(model, req, Reporter.SILENT);
                String base = config.save().outputName() + "_" + tag + String.format("_%02d_", p.index()) + TIME.format(LocalDateTime.now())
                        + (p.seed() != null ? "_" + p.seed() : "");
                written.addAll(GenerateOutputs.save(r, OutputType.IMAGES, config.save().outputDir().resolve("sample"), base, frames));
            }
        } catch (IOException ex) {
            throw new LoraidException("cannot write samples: " + ex.getMessage(), ex);
        } finally {
            net.setTraining(true);
        }
        return written;
    }

    /** Frees the VAE, if one decodes the samples. */
    @Override
    public void close() {
        if (frames instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                throw new LoraidException("closing the VAE: " + e.getMessage(), e);
            }
        }
    }
}
