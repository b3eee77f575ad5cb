/**
 * The library's front door ({@link dev.loraid.core.api.Loraid}): open a Wan DiT and attach LoRAs to it, merge LoRA
 * and LORAID files into a checkpoint, convert a LoRA's key layout, post-hoc EMA over a run's epoch files. Arguments
 * are typed and validated ({@link dev.loraid.core.api.Loras}: {@code double} multipliers); errors name the file,
 * key or parameter at fault. The JVM needs {@code --add-modules jdk.incubator.vector}.
 *
 * <p>The tiny test model (4 blocks, hence 2 blocks per LORAID), as {@code PackageExampleTest} runs it:
 *
 * <pre>{@code
 * Tensor velocity;
 * try (LoadedModel dit = Loraid.open(ditFile);
 *      AttachedLoras style = dit.attach(Loras.builder().add(styleLora, 0.8).build())) {
 *     velocity = dit.model().forward(WanInputs.of(latent, t, context)); // the LoRA at 0.8; detached on close
 * }
 * Loraid.merge(ditFile, Loras.builder().add(loraid1).add(loraid2).loraid(1, 1.0).loraid(2, 0.7)
 *         .blocksPerLoraid(2).build(), mergedFile);
 * Loraid.ema(epochFiles, 0.2, emaFile); // power EMA, sigma_rel 0.2, oldest file first
 * }</pre>
 */
package dev.loraid.core.api;
