/**
 * The Wan 2.1/2.2 video DiT (spec {@code wan.md}): configs, checkpoint loading and the model.
 *
 * <ul>
 *   <li>{@link dev.loraid.wan.WanConfig} and {@link dev.loraid.wan.WanPresets}: every released variant
 *       (T2V-1.3B/14B, I2V-14B, FLF2V-14B, the two-expert 2.2 A14B models with their switch boundary in
 *       {@link dev.loraid.wan.WanVariant}, TI2V-5B, Fun-Control) and the tiny golden-test configs.</li>
 *   <li>{@link dev.loraid.wan.WanCheckpoint}: opens a file, shard set, index or folder memory-mapped, strips
 *       ComfyUI prefixes, infers the config from the shapes ({@link dev.loraid.wan.WanConfigInference}) or checks a
 *       chosen preset ({@link dev.loraid.wan.WanKeyCheck}); {@link dev.loraid.wan.WanKeys} is the key table.</li>
 *   <li>{@link dev.loraid.wan.WanModel}: an autograd module tree with the upstream names; frozen weights are the
 *       file's tensors in their dtype (BF16/FP16/FP32/FP8, fp8 scales included), the math is fp32.
 *       {@code forward(WanInputs)} is the no-grad call; {@code forward(Var, double[], Var, WanTaps)} the
 *       differentiable one for training.</li>
 * </ul>
 *
 * <pre>{@code
 * try (WanCheckpoint ck = WanCheckpoint.open(Path.of("wan2.1_t2v_1.3B_bf16.safetensors"))) {
 *     WanModel model = ck.model();                                   // weights stay in the mapped file
 *     Tensor v = model.forward(WanInputs.of(latent, t, context));     // velocity [16, F, H, W]
 * }
 * }</pre>
 */
package dev.loraid.wan;
