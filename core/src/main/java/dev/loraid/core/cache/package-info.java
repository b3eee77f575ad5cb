/**
 * Writing musubi-tuner's caches (spec training.md §4.2-4.6, vae-t5.md §5): images, videos and captions of a dataset
 * config become {@code *_wan.safetensors} latent caches and {@code *_wan_te.safetensors} text-encoder caches with
 * upstream's file names, tensor names, dtypes and metadata, so that either trainer reads the other's. The trainer's
 * side of the same files is {@link dev.loraid.core.data.CachedDataset}.
 */
package dev.loraid.core.cache;
