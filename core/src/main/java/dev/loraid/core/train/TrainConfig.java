package dev.loraid.core.train;

import static dev.loraid.core.ParameterText.named;
import static dev.loraid.core.ParameterText.param;

import dev.loraid.core.ParameterException;
import dev.loraid.tensor.Device;
import dev.loraid.wan.quant.Fp8Load;
import java.nio.file.Path;

/**
 * Everything a training run needs (training.md §1–§5; the CLI maps musubi-tuner's flags onto it one to one).
 *
 * @param dit                  {@code --dit}: the DiT (the low-noise expert for Wan 2.2 A14B)
 * @param ditHighNoise         {@code --dit_high_noise}: the A14B high-noise expert, or null (§1.7)
 * @param timestepBoundary     {@code --timestep_boundary} on the 0..1 scale (values above 1 are divided by 1000), or
 *                             null for the task default (t2v-A14B 0.875, i2v-A14B 0.9)
 * @param offloadInactiveDit   {@code --offload_inactive_dit}: the expert not in use is moved off the device
 * @param task                 {@code --task}, or null (the config is then inferred from the checkpoint)
 * @param datasetConfig        {@code --dataset_config} (TOML or JSON)
 * @param workingDir           where the dataset config's relative paths resolve (upstream: the working directory)
 * @param device               where the model runs
 * @param mixedPrecision       {@code --mixed_precision}
 * @param gradientCheckpointing {@code --gradient_checkpointing}
 * @param maxTrainSteps        {@code --max_train_steps} (default 1600)
 * @param maxTrainEpochs       {@code --max_train_epochs}, overrides the step count when given
 * @param gradientAccumulationSteps {@code --gradient_accumulation_steps} (default 1)
 * @param seed                 {@code --seed}: the root of every random stream ({@link RandomStreams})
 * @param validation           {@code --validation_dataset_config} / {@code --validate_every_n_steps}, or null
 * @param resume               {@code --resume}: a {@link RunState} folder, or null
 * @param vae                  {@code --vae} (recorded as ss_vae_name only), or null
 * @param sampling             {@code --sample_prompts} and its triggers, or null
 * @param fp8                  {@code --fp8_base} ({@link Fp8Load#CAST}) or with {@code --fp8_scaled}
 *                             ({@link Fp8Load#SCALED}): the frozen block Linear weights stored in fp8 (wan.md §3.3)
 * @param blocksToSwap         {@code --blocks_to_swap N} (§3.5): N blocks' weights kept in host memory and copied to
 *                             the device around their forward and backward ({@code BlockSwap}); 0 (default) for none
 * @param baseWeights          {@code --base_weights} / {@code --base_weights_multiplier} (§2.7): LoRA files merged into
 *                             the DiT before training; {@link BaseWeights#NONE} (or null) for none
 * @param logging              TensorBoard event files of the run ({@code --logging_dir}, §5.5), or null for none
 * @param checkpointOffload    {@code --gradient_checkpointing_cpu_offload} (§3.5): with checkpointing on a GPU, the
 *                             blocks' checkpointed inputs wait in host memory ({@code ActivationOffload}); no effect on
 *                             the CPU, where they are in host memory already
 */
public record TrainConfig(Path dit, Path ditHighNoise, Double timestepBoundary, boolean offloadInactiveDit, String task,
        Path datasetConfig, Path workingDir, Device device, MixedPrecision mixedPrecision, boolean gradientCheckpointing,
        NetworkConfig network, OptimizerConfig optimizer, TimestepConfig timesteps, long maxTrainSteps,
        Integer maxTrainEpochs, int gradientAccumulationSteps, long seed, SaveConfig save, Validation validation,
        Path resume, Path vae, SampleConfig sampling, Fp8Load fp8, int blocksToSwap, BaseWeights baseWeights,
        LogConfig logging, boolean checkpointOffload) {

    /** Validation loss over a second dataset at fixed σ and fixed noise (see {@link ValidationLoss}). */
    public record Validation(Path datasetConfig, int everyNSteps) {
        public Validation {
            if (everyNSteps < 1) {
                throw new ParameterException(named(param("TrainConfig.Validation.everyNSteps"), " must be ≥ 1, got "
                        + everyNSteps));
            }
        }
    }

    public TrainConfig {
        if (dit == null || datasetConfig == null) {
            throw new ParameterException(named(param("TrainConfig.dit"), " and ", param("TrainConfig.datasetConfig"),
                    " are required"));
        }
        if (maxTrainSteps < 1) {
            throw new ParameterException(named(param("TrainConfig.maxTrainSteps"), " must be ≥ 1, got " + maxTrainSteps));
        }
        if (maxTrainEpochs != null && maxTrainEpochs < 1) {
            throw new ParameterException(named(param("TrainConfig.maxTrainEpochs"), " must be ≥ 1, got " + maxTrainEpochs));
        }
        if (gradientAccumulationSteps < 1) {
            throw new ParameterException(named(param("TrainConfig.gradientAccumulationSteps"), " must be ≥ 1, got "
                    + gradientAccumulationSteps));
        }
        if (timestepBoundary != null && !(timestepBoundary >= 0 && timestepBoundary <= 1000)) {
            throw new ParameterException(named(param("TrainConfig.timestepBoundary"),
                    " must be in 0..1 (or 0..1000), got " + timestepBoundary));
        }
        if (timestepBoundary != null && ditHighNoise == null) {
            throw new ParameterException(named(param("TrainConfig.timestepBoundary"), " needs ",
                    param("TrainConfig.ditHighNoise"), " (two experts)"));
        }
        if (offloadInactiveDit && ditHighNoise == null) {
            throw new ParameterException(named(param("TrainConfig.offloadInactiveDit"), " needs ",
                    param("TrainConfig.ditHighNoise"), " (two experts)"));
        }
        if (blocksToSwap < 0) {
            throw new ParameterException(named(param("TrainConfig.blocksToSwap"), " must be ≥ 0, got " + blocksToSwap));
        }
        if (blocksToSwap > 0 && offloadInactiveDit) {
            // spec training.md §1.7: upstream refuses the combination too
            throw new ParameterException(named(param("TrainConfig.offloadInactiveDit"), " and ", param("TrainConfig.blocksToSwap"),
                    " exclude each other"));
        }
        baseWeights = baseWeights == null ? BaseWeights.NONE : baseWeights;
        if (!baseWeights.isEmpty() && ditHighNoise != null) {
            throw new ParameterException(named(param("TrainConfig.baseWeights"), " with two experts (",
                    param("TrainConfig.ditHighNoise"), ") is not supported: upstream does not say which expert they go into"));
        }
        workingDir = workingDir == null ? Path.of("").toAbsolutePath() : workingDir;
        device = device == null ? Device.CPU : device;
        mixedPrecision = mixedPrecision == null ? MixedPrecision.NO : mixedPrecision;
        fp8 = fp8 == null ? Fp8Load.NONE : fp8;
    }

    /** A run whose checkpointed activations (if any) stay on the device. */
    public TrainConfig(Path dit, Path ditHighNoise, Double timestepBoundary, boolean offloadInactiveDit, String task,
            Path datasetConfig, Path workingDir, Device device, MixedPrecision mixedPrecision, boolean gradientCheckpointing,
            NetworkConfig network, OptimizerConfig optimizer, TimestepConfig timesteps, long maxTrainSteps,
            Integer maxTrainEpochs, int gradientAccumulationSteps, long seed, SaveConfig save, Validation validation,
            Path resume, Path vae, SampleConfig sampling, Fp8Load fp8, int blocksToSwap, BaseWeights baseWeights,
            LogConfig logging) {
        this(dit, ditHighNoise, timestepBoundary, offloadInactiveDit, task, datasetConfig, workingDir, device, mixedPrecision,
                gradientCheckpointing, network, optimizer, timesteps, maxTrainSteps, maxTrainEpochs, gradientAccumulationSteps, seed,
                save, validation, resume, vae, sampling, fp8, blocksToSwap, baseWeights, logging, false);
    }

    /** A run without TensorBoard logging. */
    public TrainConfig(Path dit, Path ditHighNoise, Double timestepBoundary, boolean offloadInactiveDit, String task,
            Path datasetConfig, Path workingDir, Device device, MixedPrecision mixedPrecision, boolean gradientCheckpointing,
            NetworkConfig network, OptimizerConfig optimizer, TimestepConfig timesteps, long maxTrainSteps,
            Integer maxTrainEpochs, int gradientAccumulationSteps, long seed, SaveConfig save, Validation validation,
            Path resume, Path vae, SampleConfig sampling, Fp8Load fp8, int blocksToSwap, BaseWeights baseWeights) {
        this(dit, ditHighNoise, timestepBoundary, offloadInactiveDit, task, datasetConfig, workingDir, device, mixedPrecision,
                gradientCheckpointing, network, optimizer, timesteps, maxTrainSteps, maxTrainEpochs, gradientAccumulationSteps, seed,
                save, validation, resume, vae, sampling, fp8, blocksToSwap, baseWeights, null);
    }

    /** A run without block swap ({@code blocksToSwap} 0) or base weights. */
    public TrainConfig(Path dit, Path ditHighNoise, Double timestepBoundary, boolean offloadInactiveDit, String task,
            Path datasetConfig, Path workingDir, Device device, MixedPrecision mixedPrecision, boolean gradientCheckpointing,
            NetworkConfig network, OptimizerConfig optimizer, TimestepConfig timesteps, long maxTrainSteps,
            Integer maxTrainEpochs, int gradientAccumulationSteps, long seed, SaveConfig save, Validation validation,
            Path resume, Path vae, SampleConfig sampling, Fp8Load fp8) {
        this(dit, ditHighNoise, timestepBoundary, offloadInactiveDit, task, datasetConfig, workingDir, device, mixedPrecision,
                gradientCheckpointing, network, optimizer, timesteps, maxTrainSteps, maxTrainEpochs, gradientAccumulationSteps, seed,
                save, validation, resume, vae, sampling, fp8, 0, BaseWeights.NONE);
    }
}
