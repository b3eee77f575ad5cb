package dev.loraid.cli;

import static java.util.Map.entry;

import dev.loraid.core.ParameterText;
import dev.loraid.core.ema.EmaRequest;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The flag of each library parameter: the library names parameters in API words ({@link ParameterText}, e.g.
 * {@code TrainConfig.maxTrainSteps}), the CLI shows them as its flags ({@code --max_train_steps}; issue 12).
 */
final class CliFlags {
    /** Parameters whose flag is not {@code --} and the snake_case of the component's name. */
    private static final Map<String, String> FLAGS = Map.ofEntries(
            entry("NetworkConfig.module", "--network_module"),
            entry("NetworkConfig.dim", "--network_dim"),
            entry("NetworkConfig.dropout", "--network_dropout"),
            entry("NetworkConfig.weights", "--network_weights"),
            entry("NetworkConfig.args", "--network_args"),
            entry("NetworkConfig.loraid", "--LORAID"),
            entry("OptimizerConfig.type", "--optimizer_type"),
            entry("OptimizerConfig.args", "--optimizer_args"),
            entry("OptimizerConfig.scheduler", "--lr_scheduler"),
            entry("OptimizerConfig.schedulerType", "--lr_scheduler_type"),
            entry("OptimizerConfig.warmupSteps", "--lr_warmup_steps"),
            entry("SampleConfig.prompts", "--sample_prompts"),
            entry("SampleConfig.encoder", "--t5 and --tokenizer"),
            entry("SampleConfig.everyNSteps", "--sample_every_n_steps"),
            entry("SampleConfig.everyNEpochs", "--sample_every_n_epochs"),
            entry("SaveConfig.everyNSteps", "--save_every_n_steps"),
            entry("SaveConfig.everyNEpochs", "--save_every_n_epochs"),
            entry("SaveConfig.lastNSteps", "--save_last_n_steps"),
            entry("SaveConfig.lastNStepsState", "--save_last_n_steps_state"),
            entry("SaveConfig.lastNEpochs", "--save_last_n_epochs"),
            entry("SaveConfig.lastNEpochsState", "--save_last_n_epochs_state"),
            entry("SaveConfig.precision", "--save_precision"),
            entry("TimestepConfig.sampling", "--timestep_sampling"),
            entry("TimestepConfig.weighting", "--weighting_scheme"),
            entry("TrainConfig.Validation.everyNSteps", "--validate_every_n_steps"),
            entry("TrainConfig.fp8", "--fp8_base"),
            entry("BaseWeights.multipliers", "--base_weights_multiplier"),
            entry("LatentEncoder.dtype", "--vae_dtype"),
            entry("ModelSpec.resolution", "--metadata_reso"),
            entry("GenerateRequest.activations", "--mixed_precision"),
            entry("GenerateRequest.imageConditioning", "--image_path"),
            entry("MergeRequest.loras", "--lora_weight"),
            entry("MergeRequest.includeKeyPatterns", "--include_patterns"),
            entry("MergeRequest.excludeKeyPatterns", "--exclude_patterns"),
            entry(EmaRequest.SERIES, "--loraN"),
            entry(EmaRequest.SERIES_OUTPUTS, "--output_file_loraN"));
    /** {@code EmaRequest.series[3]} → {@code --lora3}. */
    private static final Pattern SLOT = Pattern.compile("(.+)\\[(\\d+)]");

    private CliFlags() {
    }

    /** The flag of the parameter called {@code api}. */
    static String flag(String api) {
        Matcher slot = SLOT.matcher(api);
        if (slot.matches()) {
            return flag(slot.group(1)).replace("N", slot.group(2));
        }
        String flag = FLAGS.get(api);
        if (flag != null) {
            return flag;
        }
        String name = api.substring(api.lastIndexOf('.') + 1);
        String snake = name.replaceAll("([a-z0-9])([A-Z])", "$1_$2").replaceAll("([A-Z])([A-Z])", "$1_$2");
        return "--" + snake.toLowerCase(Locale.ROOT);
    }

    /** {@code text} with its parameters shown as flags. */
    static String render(ParameterText text) {
        return text.render(CliFlags::flag);
    }

    /** The message of {@code e}, parameters shown as flags when it names any. */
    static String message(Throwable e) {
        ParameterText text = ParameterText.carriedBy(e);
        return text != null ? render(text) : e.getMessage();
    }
}
