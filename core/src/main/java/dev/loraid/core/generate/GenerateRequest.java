package dev.loraid.core.generate;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.WanVariant;
import dev.loraid.wan.sample.CfgSkipMode;
import dev.loraid.wan.sample.SkipLayerGuidance;
import dev.loraid.wan.quant.Fp8Load;
import dev.loraid.wan.sample.SolverKind;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;

/**
 * One text-to-video (or, with {@link #imageConditioning}, image-to-video) generation (spec training.md §6.3–6.5): the
 * model, the sampler settings, the text conditioning as precomputed embeddings and the starting noise. {@link #withTaskDefaults} fills in what the task prescribes.
 *
 * @param task                   the Wan variant (its config checks the DiT; its latent channels and VAE stride give
 *                               the latent size)
 * @param ditHighNoise           the A14B high-noise expert, null for single-DiT tasks
 * @param timestepBoundary       the A14B switch on the 0..1 scale (a value above 1 is read on the 0..1000 scale), null
 *                               for none
 * @param height                 pixels, a multiple of the VAE's spatial stride
 * @param frames                 video length in pixel frames, 4k + 1
 * @param context                the prompt's text embedding [L ≤ text_len, text_dim]
 * @param negativeContext        the negative prompt's text embedding [L ≤ text_len, text_dim]
 * @param noise                  the starting latent [C, F, H, W], or null to draw it with {@code seed}
 * @param imageConditioning      image-to-video tasks' y [4 + C, F, H, W] (wan.md §2: the mask, then the latent of the
 *                               start image and zero frames, as the cache package's ImageConditioning builds it), or null
 * @param clip                   Wan 2.1 image-to-video's CLIP tokens of the start image [257, 1280] (wan.md §5.4), or
 *                               null (tasks without the image branch)
 * @param residency              when each A14B expert is on the device (single-DiT tasks ignore it)
 * @param fp8                    the block Linear weights stored in fp8 at load (upstream's {@code --fp8},
 *                               {@code --fp8_scaled}; wan.md §3.3), or {@link Fp8Load#NONE}
 * @param blocksToSwap           blocks whose weights stay in host memory, copied to the device around their forward
 *                               ({@code --blocks_to_swap}, training.md §3.5); 0 for none
 * @param activations            the DiT's activation dtype ({@link dev.loraid.wan.WanModel#setActivationDType}): F32, or
 *                               BF16/F16 as under upstream's autocast; null for F32
 * @param extraMetadata          more key → value pairs for the output's metadata (e.g. the files the inputs came from)
 * @param oneFrame               one-frame inference (its frames' RoPE positions; {@code imageConditioning} then holds
 *                               one frame per position and the result is the generated frame alone), or null
 */
public record GenerateRequest(WanVariant task, Path dit, Path ditHighNoise, LoraSelection loras,
                              LoraSelection lorasHighNoise, SolverKind solver, int steps, double flowShift,
                              double guidanceScale, double guidanceScaleHighNoise, Double timestepBoundary,
                              CfgSkipMode cfgSkipMode, Double cfgApplyRatio, SkipLayerGuidance slg, long seed,
                              int height, int width, int frames, Tensor context, Tensor negativeContext, Tensor noise,
                              Tensor imageConditioning, Tensor clip, Device device, ExpertResidency residency, Fp8Load fp8,
                              int blocksToSwap, DType activations, Map<String, String> extraMetadata,
                              OneFrame oneFrame) {

    public GenerateRequest {
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(dit, "dit");
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(negativeContext, "negative context");
        loras = loras == null ? LoraSelection.NONE : loras;
        lorasHighNoise = lorasHighNoise == null ? LoraSelection.NONE : lorasHighNoise;
        slg = slg == null ? SkipLayerGuidance.OFF : slg;
        cfgSkipMode = cfgSkipMode == null ? CfgSkipMode.NONE : cfgSkipMode;
        device = device == null ? Device.CPU : device;
        residency = residency == null ? ExpertResidency.BOTH : residency;
        fp8 = fp8 == null ? Fp8Load.NONE : fp8;
        extraMetadata = extraMetadata == null ? Map.of() : Map.copyOf(extraMetadata);
        activations = activations == null ? DType.F32 : activations;
        if (activations != DType.F32 && activations != DType.BF16 && activations != DType.F16) {
            throw new ParameterException(named(param("GenerateRequest.activations"), " must be F32, BF16 or F16, got " + activations));
        }
        if (blocksToSwap < 0) {
            throw new ParameterException(named(param("GenerateRequest.blocksToSwap"), " must be ≥ 0, got " + blocksToSwap));
        }
        if (timestepBoundary != null && timestepBoundary > 1.0) {
            timestepBoundary = timestepBoundary / 1000.0; // upstream accepts 0..1000 too (§6.3)
        }
    }

    /** A request that generates a video (no one-frame inference). */
    public GenerateRequest(WanVariant task, Path dit, Path ditHighNoise, LoraSelection loras, LoraSelection lorasHighNoise,
                           SolverKind solver, int steps, double flowShift, double guidanceScale, double guidanceScaleHighNoise,
                           Double timestepBoundary, CfgSkipMode cfgSkipMode, Double cfgApplyRatio, SkipLayerGuidance slg,
                           long seed, int height, int width, int frames, Tensor context, Tensor negativeContext, Tensor noise,
                           Tensor imageConditioning, Tensor clip, Device device, ExpertResidency residency, Fp8Load fp8,
                           int blocksToSwap, DType activations, Map<String, String> extraMetadata) {
        this(task, dit, ditHighNoise, loras, lorasHighNoise, solver, steps, flowShift, guidanceScale, guidanceScaleHighNoise,
                timestepBoundary, cfgSkipMode, cfgApplyRatio, slg, seed, height, width, frames, context, negativeContext, noise,
                imageConditioning, clip, device, residency, fp8, blocksToSwap, activations, extraMetadata, null);
    }

    /** A request without image conditioning (text-to-video). */
    public GenerateRequest(WanVariant task, Path dit, Path ditHighNoise, LoraSelection loras, LoraSelection lorasHighNoise,
                           SolverKind solver, int steps, double flowShift, double guidanceScale, double guidanceScaleHighNoise,
                           Double timestepBoundary, CfgSkipMode cfgSkipMode, Double cfgApplyRatio, SkipLayerGuidance slg,
                           long seed, int height, int width, int frames, Tensor context, Tensor negativeContext, Tensor noise,
                           Device device, ExpertResidency residency, Fp8Load fp8, int blocksToSwap, DType activations,
                           Map<String, String> extraMetadata) {
        this(task, dit, ditHighNoise, loras, lorasHighNoise, solver, steps, flowShift, guidanceScale, guidanceScaleHighNoise,
                timestepBoundary, cfgSkipMode, cfgApplyRatio, slg, seed, height, width, frames, context, negativeContext, noise,
                null, null, device, residency, fp8, blocksToSwap, activations, extraMetadata, null);
    }

    /**
     * A request with the task's defaults (§6.3, wan.md §1.2): solver unipc, its steps, shift and guidance scales, its
     * boundary, 256×256, 81 frames (1 for t2i), no LoRAs, CFG on every step, no SLG, on the CPU with fp32 activations.
     */
    public static GenerateRequest withTaskDefaults(WanVariant task, Path dit, Path ditHighNoise, long seed,
                                                   Tensor context, Tensor negativeContext) {
        Double boundary = task.hasExperts() ? task.boundary() : null;
        int frames = task.name().toLowerCase().contains("t2i") ? 1 : 81;
        return new GenerateRequest(task, dit, ditHighNoise, LoraSelection.NONE, LoraSelection.NONE, SolverKind.UNIPC,
                task.sampleSteps(), task.sampleShift(), task.guidanceLow(), task.guidanceHigh(), boundary, CfgSkipMode.NONE,
                null, SkipLayerGuidance.OFF, seed, 256, 256, frames, context, negativeContext, null, Device.CPU, ExpertResidency.BOTH,
                Fp8Load.NONE, 0, DType.F32, Map.of());
    }

    /**
     * The latent shape [C, (frames − 1)/4 + 1, height/8, width/8] for the task's VAE (wan.md §1.2); with one-frame
     * inference one frame per RoPE position.
     */
    public long[] latentShape() {
        int[] stride = task.vaeStride();
        long f = oneFrame != null ? oneFrame.framePositions().length : (frames - 1) / stride[0] + 1;
        return new long[] {task.latentChannels(), f, height / stride[1], width / stride[2]};
    }

    public GenerateRequest withLoras(LoraSelection low, LoraSelection high) {
        return new GenerateRequest(task, dit, ditHighNoise, low, high, solver, steps, flowShift, guidanceScale,
                guidanceScaleHighNoise, timestepBoundary, cfgSkipMode, cfgApplyRatio, slg, seed, height, width, frames,
                context, negativeContext, noise, imageConditioning, clip, device, residency, fp8, blocksToSwap, activations,
                extraMetadata, oneFrame);
    }

    public GenerateRequest withSize(int height, int width, int frames) {
        return new GenerateRequest(task, dit, ditHighNoise, loras, lorasHighNoise, solver, steps, flowShift, guidanceScale,
                guidanceScaleHighNoise, timestepBoundary, cfgSkipMode, cfgApplyRatio, slg, seed, height, width, frames,
                context, negativeContext, noise, imageConditioning, clip, device, residency, fp8, blocksToSwap, activations,
                extraMetadata, oneFrame);
    }

    public GenerateRequest withSampling(SolverKind solver, int steps, double flowShift, double guidanceScale) {
        return new GenerateRequest(task, dit, ditHighNoise, loras, lorasHighNoise, solver, steps, flowShift, guidanceScale,
                guidanceScaleHighNoise, timestepBoundary, cfgSkipMode, cfgApplyRatio, slg, seed, height, width, frames,
                context, negativeContext, noise, imageConditioning, clip, device, residency, fp8, blocksToSwap, activations,
                extraMetadata, oneFrame);
    }

    public GenerateRequest withSeed(long seed) {
        return new GenerateRequest(task, dit, ditHighNoise, loras, lorasHighNoise, solver, steps, flowShift, guidanceScale,
                guidanceScaleHighNoise, timestepBoundary, cfgSkipMode, cfgApplyRatio, slg, seed, height, width, frames,
                context, negativeContext, noise, imageConditioning, clip, device, residency, fp8, blocksToSwap, activations,
                extraMetadata, oneFrame);
    }

    public GenerateRequest withResidency(ExpertResidency residency) {
        return new GenerateRequest(task, dit, ditHighNoise, loras, lorasHighNoise, solver, steps, flowShift, guidanceScale,
                guidanceScaleHighNoise, timestepBoundary, cfgSkipMode, cfgApplyRatio, slg, seed, height, width, frames,
                context, negativeContext, noise, imageConditioning, clip, device, residency, fp8, blocksToSwap, activations,
                extraMetadata, oneFrame);
    }

    public GenerateRequest withFp8(Fp8Load fp8) {
        return new GenerateRequest(task, dit, ditHighNoise, loras, lorasHighNoise, solver, steps, flowShift, guidanceScale,
                guidanceScaleHighNoise, timestepBoundary, cfgSkipMode, cfgApplyRatio, slg, seed, height, width, frames,
                context, negativeContext, noise, imageConditioning, clip, device, residency, fp8, blocksToSwap, activations,
                extraMetadata, oneFrame);
    }

    public GenerateRequest withBlocksToSwap(int blocksToSwap) {
        return new GenerateRequest(task, dit, ditHighNoise, loras, lorasHighNoise, solver, steps, flowShift, guidanceScale,
                guidanceScaleHighNoise, timestepBoundary, cfgSkipMode, cfgApplyRatio, slg, seed, height, width, frames,
                context, negativeContext, noise, imageConditioning, clip, device, residency, fp8, blocksToSwap, activations,
                extraMetadata, oneFrame);
    }

    public GenerateRequest withActivations(DType activations) {
        return new GenerateRequest(task, dit, ditHighNoise, loras, lorasHighNoise, solver, steps, flowShift, guidanceScale,
                guidanceScaleHighNoise, timestepBoundary, cfgSkipMode, cfgApplyRatio, slg, seed, height, width, frames,
                context, negativeContext, noise, imageConditioning, clip, device, residency, fp8, blocksToSwap, activations,
                extraMetadata, oneFrame);
    }

    public GenerateRequest withDevice(Device device) {
        return new GenerateRequest(task, dit, ditHighNoise, loras, lorasHighNoise, solver, steps, flowShift, guidanceScale,
                guidanceScaleHighNoise, timestepBoundary, cfgSkipMode, cfgApplyRatio, slg, seed, height, width, frames,
                context, negativeContext, noise, imageConditioning, clip, device, residency, fp8, blocksToSwap, activations,
                extraMetadata, oneFrame);
    }

    /** Another prompt: its text embeddings and the metadata that records where they came from. */
    public GenerateRequest withText(Tensor context, Tensor negativeContext, Map<String, String> extraMetadata) {
        return new GenerateRequest(task, dit, ditHighNoise, loras, lorasHighNoise, solver, steps, flowShift, guidanceScale,
                guidanceScaleHighNoise, timestepBoundary, cfgSkipMode, cfgApplyRatio, slg, seed, height, width, frames,
                context, negativeContext, noise, imageConditioning, clip, device, residency, fp8, blocksToSwap, activations,
                extraMetadata, oneFrame);
    }

    public GenerateRequest withNoise(Tensor noise) {
        return new GenerateRequest(task, dit, ditHighNoise, loras, lorasHighNoise, solver, steps, flowShift, guidanceScale,
                guidanceScaleHighNoise, timestepBoundary, cfgSkipMode, cfgApplyRatio, slg, seed, height, width, frames,
                context, negativeContext, noise, imageConditioning, clip, device, residency, fp8, blocksToSwap, activations,
                extraMetadata, oneFrame);
    }

    /** The same request conditioned on a start image: {@code y} as {@link #imageConditioning} describes, no CLIP. */
    public GenerateRequest withImageConditioning(Tensor y) {
        return withImageConditioning(y, null);
    }

    /** The same request conditioned on a start image: its y and (Wan 2.1 I2V) its CLIP tokens, as {@link #clip} describes. */
    public GenerateRequest withImageConditioning(Tensor y, Tensor clip) {
        return new GenerateRequest(task, dit, ditHighNoise, loras, lorasHighNoise, solver, steps, flowShift, guidanceScale,
                guidanceScaleHighNoise, timestepBoundary, cfgSkipMode, cfgApplyRatio, slg, seed, height, width, frames,
                context, negativeContext, noise, y, clip, device, residency, fp8, blocksToSwap, activations, extraMetadata,
                oneFrame);
    }

    /**
     * One-frame inference: {@code y} [4 + C, positions, H, W] holds a frame per RoPE position of {@code oneFrame} (the
     * cache package's OneFrameConditioning builds it), {@code clip} as {@link #withImageConditioning(Tensor, Tensor)}.
     */
    public GenerateRequest withOneFrame(OneFrame oneFrame, Tensor y, Tensor clip) {
        return new GenerateRequest(task, dit, ditHighNoise, loras, lorasHighNoise, solver, steps, flowShift, guidanceScale,
                guidanceScaleHighNoise, timestepBoundary, cfgSkipMode, cfgApplyRatio, slg, seed, height, width, 1,
                context, negativeContext, noise, y, clip, device, residency, fp8, blocksToSwap, activations, extraMetadata,
                oneFrame);
    }
}
