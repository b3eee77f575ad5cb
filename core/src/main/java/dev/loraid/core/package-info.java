/**
 * LoRA and LORAID: LoRA key naming and file model ({@code lora}), LORAID block allocation and validation
 * ({@code plan}), streaming merge into a base model ({@code merge}), post-hoc EMA and multi-LoRA blending
 * ({@code ema}), training data from musubi-tuner caches ({@code data}). Spec: {@code shared/spec/loraid.md},
 * {@code shared/spec/training.md} §2, §4, §5.3–5.4, §7–8.
 */
package dev.loraid.core;
