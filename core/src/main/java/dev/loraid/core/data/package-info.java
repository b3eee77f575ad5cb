/**
 * Training data from musubi-tuner's caches (spec {@code shared/spec/training.md} §4): dataset configs
 * ({@link dev.loraid.core.data.DatasetConfigReader}, §4.1), bucketing ({@link dev.loraid.core.data.BucketSelector},
 * §4.4), cache discovery ({@link dev.loraid.core.data.CachedDataset}, §4.5–4.7), the epoch's batch order as a pure
 * function of (seed, epoch) ({@link dev.loraid.core.data.DatasetGroup#batches}) and batch loading
 * ({@link dev.loraid.core.data.BatchLoader}). Entry point: {@link dev.loraid.core.data.DatasetGroup#open}.
 */
package dev.loraid.core.data;
