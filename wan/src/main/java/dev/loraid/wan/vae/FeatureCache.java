package dev.loraid.wan.vae;

import dev.loraid.tensor.Tensor;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The state carried between chunks of one encode or decode call (spec vae-t5.md §1.4): one slot per temporally
 * cached layer. Upstream numbers the slots by visiting order; each layer here keys its own slot, which is the same
 * thing because every chunk visits the layers in one order. Cleared by making a new cache per call.
 *
 * <p>{@link #whole()} is the whole-clip mode: one chunk holding every frame, with the resamples applying their
 * whole-sequence equivalents (§1.4) instead of their first-chunk rules; tests compare it with the chunked run.
 */
final class FeatureCache {
    /** The upsample3d slot's "Rep" marker: the first chunk passed, no frame is cached yet. */
    static final Tensor REP = Tensor.zeros(dev.loraid.tensor.DType.F32, 1);

    private final Map<Object, Tensor> slots = new IdentityHashMap<>();
    private final boolean whole;

    private FeatureCache(boolean whole) {
        this.whole = whole;
    }

    static FeatureCache chunked() {
        return new FeatureCache(false);
    }

    static FeatureCache wholeClip() {
        return new FeatureCache(true);
    }

    boolean whole() {
        return whole;
    }

    /** The slot of {@code layer}: null before its first chunk. */
    Tensor get(Object layer) {
        return slots.get(layer);
    }

    /** Stores {@code value} (an {@link VaeOps#own} copy, or {@link #REP}), releasing the slot's old value. */
    void put(Object layer, Tensor value) {
        Tensor old = slots.put(layer, value);
        if (old != REP && old != value) {
            VaeOps.free(old);
        }
    }

    /** Releases every slot (end of an encode/decode call). */
    void clear() {
        for (Tensor t : slots.values()) {
            if (t != REP) {
                VaeOps.free(t);
            }
        }
        slots.clear();
    }
}
