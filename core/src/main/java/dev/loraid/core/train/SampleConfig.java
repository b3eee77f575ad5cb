package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import dev.loraid.core.generate.TextEncoder;
import java.nio.file.Path;
import java.util.function.IntFunction;

/**
 * Sampling during training (spec training.md §6.1–6.2).
 *
 * @param prompts      {@code --sample_prompts}: a .txt, .toml or .json prompt file
 * @param everyNSteps  {@code --sample_every_n_steps}, or null
 * @param everyNEpochs {@code --sample_every_n_epochs}, or null
 * @param atFirst      {@code --sample_at_first}: once before the first step
 * @param encoder      opens the text encoder (tokenizer + UMT5) for the DiT's text length; used once at start-up, then
 *                     closed
 * @param vaeLatentStats latents_mean / latents_std for a VAE ({@link TrainConfig#vae()}) whose latent width is not 16, or
 *                     null
 * @param clip         {@code --clip}: Wan's CLIP file, which samples of a Wan 2.1 I2V task need for their start images'
 *                     tokens; null otherwise
 * @param oneFrame     {@code --one_frame}: samples run one-frame inference, each prompt giving its {@code --of} and
 *                     {@code --ci} (musubi docs/wan_1f.md)
 */
public record SampleConfig(Path prompts, Integer everyNSteps, Integer everyNEpochs, boolean atFirst, IntFunction<TextEncoder> encoder,
        Path vaeLatentStats, Path clip, boolean oneFrame) {
    public SampleConfig {
        if (prompts == null || encoder == null) {
            throw new ParameterException(named("sampling needs a prompt file (", param("SampleConfig.prompts"),
                    ") and a text encoder (",
                    param("SampleConfig.encoder"), ")"));
        }
        ParameterException.requireAtLeastOne("SampleConfig.everyNSteps", everyNSteps);
        ParameterException.requireAtLeastOne("SampleConfig.everyNEpochs", everyNEpochs);
    }

    /** Without a CLIP file (tasks without the CLIP branch). */
    public SampleConfig(Path prompts, Integer everyNSteps, Integer everyNEpochs, boolean atFirst, IntFunction<TextEncoder> encoder,
            Path vaeLatentStats) {
        this(prompts, everyNSteps, everyNEpochs, atFirst, encoder, vaeLatentStats, null, false);
    }

    /** Video samples (no one-frame inference). */
    public SampleConfig(Path prompts, Integer everyNSteps, Integer everyNEpochs, boolean atFirst, IntFunction<TextEncoder> encoder,
            Path vaeLatentStats, Path clip) {
        this(prompts, everyNSteps, everyNEpochs, atFirst, encoder, vaeLatentStats, clip, false);
    }
}
