/**
 * Wan's CLIP image encoder in pure Java (spec {@code wan.md} §5.4): the vision tower of open-clip XLM-RoBERTa-Large
 * ViT-H/14 that gives the 2.1 I2V and FLF2V DiTs their {@code clip_fea} [257, 1280].
 *
 * <ul>
 *   <li>{@link dev.loraid.wan.clip.ClipCheckpoint}: opens Wan's {@code .pth} (or safetensors with its names) and
 *       infers the {@link dev.loraid.wan.clip.ClipVisionConfig}.</li>
 *   <li>{@link dev.loraid.wan.clip.ClipVisionEncoder}: the tower (inference only), 31 of its 32 blocks as Wan runs it;
 *       {@code encode(image)} takes a [3, H, W] image in [−1, 1].</li>
 *   <li>{@link dev.loraid.wan.clip.ClipImage}: upstream's preprocessing, PyTorch's bicubic resize to 224×224 and CLIP's
 *       normalisation.</li>
 * </ul>
 */
package dev.loraid.wan.clip;
