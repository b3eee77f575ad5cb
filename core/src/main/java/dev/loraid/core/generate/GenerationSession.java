package dev.loraid.core.generate;

import dev.loraid.core.LoraidException;
import dev.loraid.core.Reporter;
import dev.loraid.tensor.Tensor;
import dev.loraid.wan.sample.GuidedVelocity;
import java.util.Map;
import java.util.Objects;

/**
 * Generations that share one model (upstream's {@code --from_file} batch and {@code --interactive} mode): the DiT(s) are
 * opened and their LoRAs attached once (or, with {@link ExpertResidency#LAZY}, each time an expert's steps come), then
 * each request runs with its own text, size, sampler settings and seed. Every request must share the first one's task,
 * DiT files, LoRAs, device, residency, fp8, blocks to swap and activation dtype.
 */
public final class GenerationSession implements AutoCloseable {
    private final GenerateRequest first;
    private final Reporter reporter;
    private final ExpertResidency residency;
    private final DitExpert low;
    private final DitExpert high;

    private GenerationSession(GenerateRequest first, Reporter reporter, ExpertResidency residency, DitExpert low,
            DitExpert high) {
        this.first = first;
        this.reporter = reporter;
        this.residency = residency;
        this.low = low;
        this.high = high;
    }

    /** Opens the DiT(s) {@code first} names, as upstream loads them (§6.5: the low-noise expert first). */
    public static GenerationSession open(GenerateRequest first, Reporter reporter) {
        Generator.check(first);
        boolean dual = first.ditHighNoise() != null;
        ExpertResidency residency = dual ? first.residency() : ExpertResidency.BOTH;
        DitExpert low = new DitExpert(dual ? "low-noise DiT" : "DiT", first.dit(), first.loras(), first.task(),
                first.device(), first.fp8(), first.blocksToSwap(), first.activations(), "lora", reporter);
        DitExpert high = null;
        try {
            high = !dual ? null : new DitExpert("high-noise DiT", first.ditHighNoise(), first.lorasHighNoise(), first.task(),
                    first.device(), first.fp8(), first.blocksToSwap(), first.activations(), "lora_high_noise", reporter);
            switch (residency) {
                case BOTH -> {
                    low.open(true);
                    if (high != null) {
                        high.open(true);
                    }
                }
                case OFFLOAD_INACTIVE -> {
                    low.open(false); // left on the host when offloading
                    high.open(true);
                }
                case LAZY -> { }
            }
        } catch (RuntimeException e) {
            if (high != null) {
                high.close();
            }
            low.close();
            throw e;
        }
        if (high == null && first.timestepBoundary() != null) {
            reporter.warn("timestep boundary " + first.timestepBoundary() + " ignored: no high-noise DiT was given");
        }
        return new GenerationSession(first, reporter, residency, low, high);
    }

    /** Throws, with {@code why}, when {@code req} does not share {@code first}'s model settings. */
    static void checkShared(GenerateRequest first, GenerateRequest req, String why) {
        if (req.task() != first.task() || !req.dit().equals(first.dit())
                || !Objects.equals(req.ditHighNoise(), first.ditHighNoise()) || !req.loras().equals(first.loras())
                || !req.lorasHighNoise().equals(first.lorasHighNoise()) || !req.device().equals(first.device())
                || req.residency() != first.residency() || req.fp8() != first.fp8()
                || req.blocksToSwap() != first.blocksToSwap() || req.activations() != first.activations()) {
            throw new LoraidException("generations with one model must share the task, the DiT files, the LoRAs, the "
                    + "device, the expert residency, fp8, the blocks to swap and the activation dtype (" + why + ")");
        }
    }

    /** One generation with the open model(s). */
    public GenerateResult generate(GenerateRequest req) {
        Generator.check(req);
        checkShared(first, req, "this request differs from the first");
        Map<String, String> meta = Generator.metadata(req);
        GuidedVelocity.Expert highExpert = null;
        if (high != null) {
            // each run starts on the high-noise expert: put it back where the previous run's switch took it
            switch (residency) {
                case OFFLOAD_INACTIVE -> low.offload();
                case LAZY -> low.release();
                case BOTH -> { }
            }
            highExpert = Generator.expertOf("high_noise_model", high, req, req.guidanceScaleHighNoise());
        }
        GuidedVelocity.SwitchListener onSwitch = switch (residency) {
            case BOTH -> GuidedVelocity.SwitchListener.NONE;
            case OFFLOAD_INACTIVE -> (step, t) -> high.offload();
            case LAZY -> (step, t) -> high.release();
        };
        Tensor latent = Generator.loop(req, Generator.startingNoise(req), highExpert, Generator.expertOf("low_noise_model",
                low, req, req.guidanceScale()), onSwitch, reporter);
        low.loraMetadata().forEach(meta::putIfAbsent);
        if (high != null) {
            high.loraMetadata().forEach(meta::putIfAbsent);
        }
        return new GenerateResult(latent, req.seed(), meta);
    }

    @Override
    public void close() {
        try (DitExpert l = low; DitExpert h = high) {
            // both closed, the high-noise expert first
        }
    }
}
