/**
 * LoRA training by flow matching (spec {@code training.md} §0–§5), what {@code loraid train} runs.
 *
 * <ul>
 *   <li>{@link dev.loraid.core.train.Trainer}: the loop; {@link dev.loraid.core.train.TrainConfig} holds every setting
 *       (musubi-tuner's flags one to one), {@link dev.loraid.core.train.TrainListener} reports progress.</li>
 *   <li>{@link dev.loraid.core.train.TrainStep}: forward + backward of a micro-batch and the optimizer update, the code
 *       the {@code train-step} benchmark times; {@link dev.loraid.core.train.GradientSync} is where a data-parallel
 *       run averages gradients.</li>
 *   <li>{@link dev.loraid.core.train.TimestepSampler}, {@link dev.loraid.core.train.FlowMatching}: the objective.</li>
 *   <li>{@link dev.loraid.core.train.RandomStreams}: how every random stream derives from the seed, which is what
 *       makes {@link dev.loraid.core.train.RunState} resumes bit-identical.</li>
 * </ul>
 *
 * <pre>{@code
 * TrainConfig config = new TrainConfig(dit, null, null, false, null, Path.of("dataset.toml"), null, Device.CPU,
 *         MixedPrecision.NO, true, new NetworkConfig(NetworkModule.LORA, 32, 32, 0, List.of(), null, false, null, 2, 10),
 *         OptimizerConfig.defaults(), TimestepConfig.defaults().withSampling(TimestepSampling.SHIFT).withShift(3.0, 1.0),
 *         1600, null, 1, 42, SaveConfig.of(Path.of("out"), "mylora"), null, null, null, null, Fp8Load.NONE);
 * Trainer.Result r = Trainer.run(config, TrainListener.SILENT);   // out/mylora.safetensors: LORAID 2, blocks 10–19
 * }</pre>
 */
package dev.loraid.core.train;
