package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import dev.loraid.tensor.DType;
import java.nio.file.Path;

/**
 * What a training run writes and when (training.md §5.1–5.3).
 *
 * @param outputDir            {@code --output_dir}
 * @param outputName           {@code --output_name}
 * @param everyNSteps          {@code --save_every_n_steps} → {@code <name>-step{:08d}.safetensors}, or null
 * @param everyNEpochs         {@code --save_every_n_epochs} → {@code <name>-{:06d}.safetensors}, or null
 * @param lastNSteps           {@code --save_last_n_steps}: keep only the step files of the last N steps, or null
 * @param lastNStepsState      {@code --save_last_n_steps_state}, or null (= lastNSteps)
 * @param lastNEpochs          {@code --save_last_n_epochs}, or null
 * @param lastNEpochsState     {@code --save_last_n_epochs_state}, or null (= lastNEpochs)
 * @param saveState            {@code --save_state}: a {@link RunState} folder beside every LoRA file
 * @param saveStateOnTrainEnd  {@code --save_state_on_train_end}: the final state only
 * @param precision            {@code --save_precision} (default F32)
 * @param noMetadata           {@code --no_metadata}: only the minimum keys
 * @param trainingComment      {@code --training_comment}, or null
 * @param modelSpec            {@code --metadata_*}: the model-spec fields (null: upstream's defaults)
 */
public record SaveConfig(Path outputDir, String outputName, Integer everyNSteps, Integer everyNEpochs, Integer lastNSteps,
        Integer lastNStepsState, Integer lastNEpochs, Integer lastNEpochsState, boolean saveState,
        boolean saveStateOnTrainEnd, DType precision, boolean noMetadata, String trainingComment, ModelSpec modelSpec) {

    public SaveConfig {
        modelSpec = modelSpec == null ? ModelSpec.DEFAULTS : modelSpec;
        if (outputDir == null || outputName == null || outputName.isBlank()) {
            throw new ParameterException(named(param("SaveConfig.outputDir"), " and ", param("SaveConfig.outputName"),
                    " are required"));
        }
        if (outputName.contains("/") || outputName.contains("\\")) {
            throw new ParameterException(named(param("SaveConfig.outputName"),
                    " must be a file name without folders, got " + outputName));
        }
        // the longest name a run writes: <name>-stepNNNNNNNN-state (its temp name is shortened to fit, TempFiles)
        int bytes = (outputName + stepSuffix(0) + "-state").getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (bytes > 255) {
            throw new ParameterException(named(param("SaveConfig.outputName"), " is too long: " + outputName + stepSuffix(0)
                    + "-state would be " + bytes + " bytes, over the 255-byte limit of file names"));
        }
        ParameterException.requireAtLeastOne("SaveConfig.everyNSteps", everyNSteps);
        ParameterException.requireAtLeastOne("SaveConfig.everyNEpochs", everyNEpochs);
        ParameterException.requireAtLeastOne("SaveConfig.lastNSteps", lastNSteps);
        ParameterException.requireAtLeastOne("SaveConfig.lastNStepsState", lastNStepsState);
        ParameterException.requireAtLeastOne("SaveConfig.lastNEpochs", lastNEpochs);
        ParameterException.requireAtLeastOne("SaveConfig.lastNEpochsState", lastNEpochsState);
        if (precision != DType.F32 && precision != DType.F16 && precision != DType.BF16) {
            throw new ParameterException(named(param("SaveConfig.precision"), " must be float, fp16 or bf16, got "
                    + precision));
        }
    }

    /** Settings with upstream's model-spec defaults. */
    public SaveConfig(Path outputDir, String outputName, Integer everyNSteps, Integer everyNEpochs, Integer lastNSteps,
            Integer lastNStepsState, Integer lastNEpochs, Integer lastNEpochsState, boolean saveState,
            boolean saveStateOnTrainEnd, DType precision, boolean noMetadata, String trainingComment) {
        this(outputDir, outputName, everyNSteps, everyNEpochs, lastNSteps, lastNStepsState, lastNEpochs, lastNEpochsState,
                saveState, saveStateOnTrainEnd, precision, noMetadata, trainingComment, null);
    }

    /** The final file and nothing else, in fp32. */
    public static SaveConfig of(Path outputDir, String outputName) {
        return new SaveConfig(outputDir, outputName, null, null, null, null, null, null, false, false, DType.F32, false, null);
    }

    public Path loraFile(String suffix) {
        return outputDir.resolve(outputName + suffix + ".safetensors");
    }

    public Path stateDir(String suffix) {
        return outputDir.resolve(outputName + suffix + "-state");
    }

    /** {@code -step00000040} */
    public static String stepSuffix(long step) {
        return String.format("-step%08d", step);
    }

    /** {@code -000001} */
    public static String epochSuffix(int epoch) {
        return String.format("-%06d", epoch);
    }
}
