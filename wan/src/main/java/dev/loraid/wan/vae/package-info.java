/**
 * The Wan VAE in pure Java, 2.1 (spec {@code vae-t5.md} §1, §4b) and 2.2 TI2V-5B (§2; patchify, AvgDown3D / DupUp3D
 * level shortcuts in {@link dev.loraid.wan.vae.VaeLevel}), inference on the CPU or a GPU.
 *
 * <ul>
 *   <li>{@link dev.loraid.wan.vae.VaeCheckpoint}: opens {@code Wan2.1_VAE.pth} or ComfyUI's
 *       {@code wan_2.1_vae.safetensors}, refuses DiT / text-encoder files by name, reads the
 *       {@link dev.loraid.wan.vae.VaeConfig} off the key list.</li>
 *   <li>{@link dev.loraid.wan.vae.WanVae}: {@code encode} (frame 0, then chunks of 4) and {@code decode} (one latent
 *       frame per chunk) with the 2-frame feature cache; {@link dev.loraid.wan.vae.LatentStats} normalises.</li>
 *   <li>Layers: CausalConv3d, the channel RMS norm and SiLU (VaeOps), residual, attention and resample blocks, on
 *       {@code Backend.conv3d} / {@code upsampleNearest}, on the device the model was placed on
 *       ({@link dev.loraid.wan.vae.VaeCheckpoint#model(dev.loraid.tensor.Device)}).</li>
 * </ul>
 */
package dev.loraid.wan.vae;
