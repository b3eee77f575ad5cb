package dev.loraid.core.generate;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.json.JsonWriter;
import dev.loraid.wan.WanConfig;
import dev.loraid.wan.WanModel;
import dev.loraid.wan.WanVariant;
import dev.loraid.wan.quant.Fp8Load;
import dev.loraid.wan.sample.Denoiser;
import dev.loraid.wan.sample.FlowSampler;
import dev.loraid.wan.sample.FlowSchedule;
import dev.loraid.wan.sample.GuidedVelocity;
import dev.loraid.wan.sample.WanDenoiser;

import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Text-to-video (and, given a start image's y, image-to-video) generation with a Wan DiT (spec training.md §6.3–6.6):
 * opens the DiT (both experts for A14B), attaches each expert's LoRAs as adapters, draws or takes the starting noise, and
 * runs the guided solver loop. Progress goes to the reporter as task {@code "denoising"} in steps. Writing files is
 * {@link GenerateOutputs}'s job.
 */
public final class Generator {
    /** The reporter task name of the step progress. */
    public static final String PROGRESS_TASK = "denoising";

    private Generator() {
    }

    public static GenerateResult run(GenerateRequest req, Reporter reporter) throws IOException {
        GenerateResult[] out = new GenerateResult[1];
        runAll(List.of(req), reporter, r -> out[0] = r);
        return out[0];
    }

    /** Receives each finished generation of {@link #runAll} (e.g. to write its files before the next one starts). */
    @FunctionalInterface
    public interface ResultSink {
        void accept(GenerateResult result) throws IOException;
    }

    /**
     * Several generations with one model (upstream's {@code --from_file} batch): the DiT(s) are opened and their LoRAs
     * attached once (or, with {@link ExpertResidency#LAZY}, each time an expert's steps come), then each request runs
     * with its own text, size, sampler settings and seed. The requests must agree on the task, the DiT files, the LoRAs,
     * the device and the residency; each result goes to {@code sink} as it finishes.
     */
    public static void runAll(List<GenerateRequest> reqs, Reporter reporter, ResultSink sink) throws IOException {
        if (reqs.isEmpty()) {
            return;
        }
        GenerateRequest first = reqs.getFirst();
        for (GenerateRequest req : reqs) {
            check(req);
            GenerationSession.checkShared(first, req, "request " + reqs.indexOf(req) + " differs from request 0");
        }
        try (GenerationSession session = GenerationSession.open(first, reporter)) {
            for (GenerateRequest req : reqs) {
                sink.accept(session.generate(req));
            }
        }
    }

    /**
     * Generation with a model already built, its LoRAs (or a training run's adapters) attached: the training-time
     * sampler (spec training.md §6.2; with two experts the low-noise one runs the whole sample). The request's dit
     * paths are only recorded. The model computes in the request's activation dtype for the sample, then gets its own
     * back.
     */
    public static GenerateResult sample(WanModel model, GenerateRequest req, Reporter reporter) {
        check(req);
        DType own = model.activationDType();
        model.setActivationDType(req.activations());
        try {
            GuidedVelocity.Expert expert = new GuidedVelocity.Expert("low_noise_model", denoiser(() -> model, req),
                    req.guidanceScale());
            Tensor latent = loop(req, startingNoise(req), null, expert, GuidedVelocity.SwitchListener.NONE, reporter);
            return new GenerateResult(latent, req.seed(), metadata(req));
        } finally {
            model.setActivationDType(own);
        }
    }

    /** The guided solver loop over one or two experts; the latent comes back on the host in F32. */
    static Tensor loop(GenerateRequest req, Tensor noise, GuidedVelocity.Expert high, GuidedVelocity.Expert low,
                               GuidedVelocity.SwitchListener onSwitch, Reporter reporter) {
        FlowSchedule schedule = req.solver().schedule(req.steps(), req.flowShift());
        GuidedVelocity velocity = new GuidedVelocity(high, low, high == null ? null : req.timestepBoundary(),
                req.cfgSkipMode().applied(req.steps(), req.cfgApplyRatio()), req.slg(),
                (step, t) -> {
                    reporter.info("switching to the low-noise expert at step " + step + ", t = " + (long) t
                            + ", guidance scale " + req.guidanceScale());
                    onSwitch.switchedToLowNoise(step, t);
                });
        Tensor latent = FlowSampler.sample(req.solver(), schedule, noise, velocity,
                (done, total) -> reporter.progress(PROGRESS_TASK, done, total));
        if (req.oneFrame() != null) { // the generated frame alone, as upstream keeps it
            latent = latent.narrow(1, req.oneFrame().targetFrame(), 1);
        }
        try (MemoryScope outside = MemoryScope.suspend()) {
            return latent.to(DType.F32).to(Device.CPU).copy();
        }
    }

    /** One expert at {@code guidance}: its DiT, made resident when a step needs it, with the request's text. */
    static GuidedVelocity.Expert expertOf(String name, DitExpert dit, GenerateRequest req, double guidance) {
        return new GuidedVelocity.Expert(name, denoiser(dit::resident, req), guidance);
    }

    /** The DiT passes with the request's text conditioning (cond, uncond, SLG layers), on the model {@code model} gives. */
    private static Denoiser denoiser(Supplier<WanModel> model, GenerateRequest req) {
        Tensor context = req.context().to(DType.F32);
        Tensor negative = req.negativeContext().to(DType.F32);
        Tensor y = req.imageConditioning() == null ? null : req.imageConditioning().to(DType.F32);
        Tensor clip = req.clip() == null ? null : req.clip().to(DType.F32);
        int[] positions = req.oneFrame() == null ? null : req.oneFrame().framePositions();
        return (x, t, branch) -> new WanDenoiser(model.get(), context, negative, y, clip, req.slg().layers(), positions)
                .predict(x, t, branch);
    }

    /** The request's noise, or standard normal numbers from the counter-based generator: stream seed, offset 0. */
    static Tensor startingNoise(GenerateRequest req) {
        long[] shape = req.latentShape();
        if (req.noise() != null) {
            if (!Arrays.equals(req.noise().shape().toArray(), shape)) {
                throw new LoraidException("noise has shape " + req.noise().shape() + ": expected " + Arrays.toString(shape)
                        + " for " + req.frames() + " frames at " + req.height() + "×" + req.width() + " (" + req.task().name()
                        + ")");
            }
            return req.noise().to(DType.F32).to(req.device());
        }
        // the same numbers on every backend (Backend.randomNormal is counter-based), so --cpu_noise changes nothing
        Tensor noise = Tensor.empty(req.device(), DType.F32, shape);
        noise.backend().randomNormal(noise, req.seed(), 0);
        return noise;
    }

    /** Upstream's rule for the T2V and I2V paths: by the task's name ("t2v-1.3B-FC" is text-to-video with a control). */
    public static boolean isTextToVideo(WanVariant task) {
        return !task.name().contains("i2v") && !task.name().contains("flf2v");
    }

    /** Throws a {@link LoraidException} naming what is wrong with {@code req} (run does this before opening anything). */
    public static void check(GenerateRequest req) {
        WanConfig c = req.task().config();
        if (c.inDim() != c.outDim() && req.imageConditioning() == null) {
            throw new LoraidException(named(req.task().name() + " is an image-to-video task (in_dim " + c.inDim()
                    + "): give a start image (", param("GenerateRequest.imageConditioning"), ")"));
        }
        if (c.inDim() == c.outDim() && req.imageConditioning() != null) {
            throw new LoraidException(named(req.task().name() + " takes no start image (",
                    param("GenerateRequest.imageConditioning"), "): only image-to-video tasks (in_dim > out_dim) do"));
        }
        // T2V Fun-Control runs without CLIP tokens, as upstream's T2V path (y: control latents and zeros)
        if (c.imageBranch() && req.clip() == null && !(c.funControl() && isTextToVideo(req.task()))) {
            throw new LoraidException(named(req.task().name() + " takes the start image's CLIP tokens too (",
                    param("GenerateRequest.clip"), ", Wan 2.1 image-to-video)"));
        }
        if (!c.imageBranch() && req.clip() != null) {
            throw new LoraidException(named(req.task().name() + " has no CLIP image branch: ", param("GenerateRequest.clip"),
                    " does not apply"));
        }
        long tokens = (c.imagePositions() ? 2L : 1L) * WanConfig.CLIP_TOKENS; // FLF2V: the start image's, then the end image's
        if (req.clip() != null && (req.clip().rank() != 2 || req.clip().size(0) != tokens
                || req.clip().size(1) != WanConfig.CLIP_DIM)) {
            throw new LoraidException(named(param("GenerateRequest.clip"), " has shape " + req.clip().shape() + ": expected ["
                    + tokens + ", " + WanConfig.CLIP_DIM + "] (" + (c.imagePositions() ? "the start and end images'" : "one image's")
                    + " CLIP tokens)"));
        }
        if (req.task().hasExperts() && req.ditHighNoise() == null) {
            throw new LoraidException(req.task().name() + " has two experts: give the high-noise DiT too");
        }
        if (!req.task().hasExperts() && req.ditHighNoise() != null) {
            throw new LoraidException(req.task().name() + " has a single DiT: a high-noise DiT does not apply");
        }
        if (req.ditHighNoise() == null && !req.lorasHighNoise().isEmpty()) {
            throw new LoraidException("high-noise LoRAs given without a high-noise DiT");
        }
        int[] stride = req.task().vaeStride();
        if (req.height() <= 0 || req.width() <= 0 || req.height() % (stride[1] * c.patchH()) != 0
                || req.width() % (stride[2] * c.patchW()) != 0) {
            throw new LoraidException("video size " + req.height() + "×" + req.width() + " must be positive multiples of "
                    + stride[1] * c.patchH() + " (VAE stride × patch size)");
        }
        if (req.frames() < 1 || (req.frames() - 1) % stride[0] != 0) {
            throw new LoraidException("video length " + req.frames() + " must be " + stride[0] + "k + 1");
        }
        if (req.steps() < 1) {
            throw new LoraidException("inference steps must be ≥ 1, got " + req.steps());
        }
        if (req.imageConditioning() != null) {
            long[] latent = req.latentShape();
            long[] want = {c.inDim() - c.outDim(), latent[1], latent[2], latent[3]};
            if (!Arrays.equals(req.imageConditioning().shape().toArray(), want)) {
                throw new LoraidException(named(param("GenerateRequest.imageConditioning"), " has shape "
                        + req.imageConditioning().shape() + ": expected " + Arrays.toString(want) + " for " + req.frames()
                        + " frames at " + req.height() + "×" + req.width() + " (" + req.task().name() + ")"));
            }
        }
        for (Tensor t : new Tensor[] {req.context(), req.negativeContext()}) {
            if (t.rank() != 2 || t.size(1) != c.textDim() || t.size(0) > c.textLen() || t.size(0) < 1) {
                throw new LoraidException((t == req.context() ? "context" : "negative context") + " has shape " + t.shape()
                        + ": expected [1.." + c.textLen() + ", " + c.textDim() + "] text embeddings");
            }
        }
        for (int b : req.slg().layers()) {
            if (b < 0 || b >= c.numLayers()) {
                throw new LoraidException("SLG layer " + b + " does not exist: the model has blocks 0.." + (c.numLayers() - 1));
            }
        }
        if (req.blocksToSwap() > 0 && req.blocksToSwap() >= c.numLayers()) {
            throw new LoraidException(named(param("GenerateRequest.blocksToSwap"), " is " + req.blocksToSwap() + ": the model has "
                    + c.numLayers() + " blocks, so at most " + (c.numLayers() - 1) + " can stay in host memory"));
        }
        if (req.blocksToSwap() > 0 && req.ditHighNoise() != null && req.residency() == ExpertResidency.OFFLOAD_INACTIVE) {
            throw new LoraidException(named(param("GenerateRequest.blocksToSwap"), " with the inactive expert offloaded to the "
                    + "host is not supported: keep both experts resident, or load each when its first step comes (lazy loading)"));
        }
    }

    /** Every generation parameter (upstream's save_latent keys first: seeds, height, width, video_length, …). */
    static Map<String, String> metadata(GenerateRequest req) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("seeds", Long.toString(req.seed()));
        m.put("height", Integer.toString(req.height()));
        m.put("width", Integer.toString(req.width()));
        m.put("video_length", Integer.toString(req.frames()));
        m.put("infer_steps", Integer.toString(req.steps()));
        m.put("guidance_scale", Double.toString(req.guidanceScale()));
        m.put("task", req.task().name());
        m.put("dit", req.dit().getFileName().toString());
        if (req.ditHighNoise() != null) {
            m.put("dit_high_noise", req.ditHighNoise().getFileName().toString());
            m.put("guidance_scale_high_noise", Double.toString(req.guidanceScaleHighNoise()));
            m.put("timestep_boundary", String.valueOf(req.timestepBoundary()));
        }
        m.put("sample_solver", req.solver().flagValue());
        m.put("flow_shift", Double.toString(req.flowShift()));
        m.put("cfg_skip_mode", req.cfgSkipMode().flagValue());
        if (req.cfgApplyRatio() != null) {
            m.put("cfg_apply_ratio", Double.toString(req.cfgApplyRatio()));
        }
        if (req.slg().enabled()) {
            m.put("slg_mode", req.slg().mode().name().toLowerCase(Locale.ROOT));
            m.put("slg_layers", req.slg().layers().stream().map(String::valueOf).collect(Collectors.joining(",")));
            m.put("slg_scale", Double.toString(req.slg().scale()));
            m.put("slg_start", Double.toString(req.slg().start()));
            m.put("slg_end", Double.toString(req.slg().end()));
        }
        if (req.oneFrame() != null) {
            m.put("one_frame_inference", req.oneFrame().toString());
        }
        if (req.activations() != DType.F32) {
            m.put("activations", req.activations().safetensorsName().toLowerCase(Locale.ROOT));
        }
        if (req.fp8() != Fp8Load.NONE) {
            m.put("fp8", req.fp8().name().toLowerCase(Locale.ROOT));
        }
        m.put("noise", req.noise() != null ? "given" : "randomNormal(seed, offset 0), F32");
        m.put("latent_shape", JsonWriter.compact(Arrays.stream(req.latentShape()).boxed().toList()));
        m.putAll(req.extraMetadata());
        return m;
    }
}
