package dev.loraid.wan.text;

import dev.loraid.autograd.Module;
import dev.loraid.tensor.Tensor;

/**
 * {@code pos_embedding} (upstream {@code T5RelativeEmbedding}, spec vae-t5.md §3): a {@code [num_buckets, heads]}
 * table ({@code pos_embedding.embedding.weight}) read through the bucket of each (query, key) pair.
 */
final class Umt5RelativeEmbedding extends Module {
    private final Umt5Embedding embedding;

    Umt5RelativeEmbedding(Umt5Config c) {
        this.embedding = registerModule("embedding", new Umt5Embedding(c.numBuckets(), c.numHeads()));
    }

    /**
     * The additive bias [H, lq, lk] (a strided view, F32, current memory scope) for {@code buckets}, the flattened
     * {@link T5PositionBuckets#table} [lq·lk] on the model's device: {@code bias[n, q, k] = table[bucket(k − q), n]}.
     */
    Tensor bias(Tensor buckets, long lq, long lk) {
        return embedding.lookup(buckets).view(lq, lk, -1).permute(2, 0, 1);
    }
}
