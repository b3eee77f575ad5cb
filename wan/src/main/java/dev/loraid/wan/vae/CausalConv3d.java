package dev.loraid.wan.vae;

import dev.loraid.tensor.Tensor;

/**
 * CausalConv3d (spec vae-t5.md §1.1): weight [O, I, kt, kh, kw], stride 1 (or {@code timeStride} in time, for the
 * downsample time_conv), space zero-padded symmetrically by (kh−1)/2, (kw−1)/2, time by {@code 2·pt} frames in
 * front only, fewer by the number of cached frames prepended from the previous chunk (§1.4). A kernel-1-in-time
 * conv has no temporal reach and ignores the cache.
 */
final class CausalConv3d {
    static final int CACHE_T = 2;

    final String name;
    final Tensor weight;
    final Tensor bias;
    private final int pt;
    private final int ph;
    private final int pw;

    /** {@code pt} is the module's time padding: 1 for the 3×3×3 convs and the upsample time_conv, 0 otherwise. */
    CausalConv3d(String name, Tensor weight, Tensor bias, int pt) {
        this.name = name;
        this.weight = weight;
        this.bias = bias;
        this.pt = pt;
        this.ph = (int) (weight.size(3) - 1) / 2;
        this.pw = (int) (weight.size(4) - 1) / 2;
    }

    long outChannels() {
        return weight.size(0);
    }

    /** The conv over x with {@code prev} (null, or cached frames) in front; no cache bookkeeping. */
    Tensor apply(Tensor x, Tensor prev) {
        Tensor in = pt > 0 ? VaeOps.catTime(prev, x) : x;
        int cached = pt > 0 && prev != null ? (int) prev.size(1) : 0;
        int front = Math.max(0, 2 * pt - cached);
        return VaeOps.conv(in, weight, bias, new int[] {1, 1, 1}, new int[] {front, 0, ph, ph, pw, pw});
    }

    /**
     * The cached call of §1.4: remember the input's last 2 frames (or the previous slot's last frame and this
     * chunk's single frame), run with the previous slot value in front.
     */
    Tensor forward(Tensor x, FeatureCache cache) {
        if (pt == 0) {
            return apply(x, null);
        }
        Tensor prev = cache.get(this);
        if (prev == FeatureCache.REP) {
            prev = null;
        }
        Tensor next = nextSlot(prev, x);
        Tensor y = apply(x, prev);
        cache.put(this, next); // frees prev
        return y;
    }

    /**
     * {@code forward(silu(rmsNorm(x, gamma)), cache)} with one buffer for the conv's input: the cached frames, then
     * the normalised chunk written straight behind them (no separate normalised tensor, no concatenated copy). The
     * values and their layout are those of the plain call, so the result is bit-identical. Input and output are
     * {@link VaeOps#owned}: the buffer is freed before returning, x too when {@code freeInput}, and the result is the
     * caller's to free.
     */
    Tensor forwardNormed(Tensor x, Tensor gamma, FeatureCache cache, boolean freeInput) {
        Tensor prev = pt == 0 ? null : cache.get(this);
        if (prev == FeatureCache.REP) {
            prev = null;
        }
        int cached = prev == null ? 0 : (int) prev.size(1);
        long t = x.size(1);
        Tensor in = VaeOps.owned(x.device(), x.size(0), cached + t, x.size(2), x.size(3));
        if (cached > 0) {
            x.backend().copy(prev, in.narrow(1, 0, cached));
        }
        Tensor normed = in.narrow(1, cached, t);
        VaeOps.rmsNorm(x, gamma, normed);
        VaeOps.siluInPlace(normed);
        if (freeInput) {
            VaeOps.free(x);
        }
        if (pt > 0) {
            cache.put(this, nextSlot(prev, normed)); // frees prev: its frames are in the buffer now
        }
        int front = Math.max(0, 2 * pt - cached);
        Tensor y = VaeOps.conv(in, weight, bias, new int[] {1, 1, 1}, new int[] {front, 0, ph, ph, pw, pw}, true);
        VaeOps.free(in);
        return y;
    }

    /** What the slot holds after a chunk x: its last 2 frames, topped up with the previous slot's last frame. */
    static Tensor nextSlot(Tensor prev, Tensor x) {
        Tensor last = VaeOps.lastFrames(x, CACHE_T);
        if (last.size(1) < CACHE_T && prev != null) {
            last = VaeOps.catTime(VaeOps.lastFrames(prev, 1), last);
        }
        return VaeOps.own(last);
    }
}
