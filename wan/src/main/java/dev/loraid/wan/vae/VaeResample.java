package dev.loraid.wan.vae;

import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

/**
 * Resample (spec vae-t5.md §1.2, chunk rules §1.4), spatial steps frame by frame:
 * <ul>
 *   <li>downsample2d: zero-pad 1 column right and 1 row bottom, Conv2d 3×3 stride 2.</li>
 *   <li>downsample3d: the same, then time_conv [C, C, 3, 1, 1] stride 2 in time, unpadded: the first chunk's frame
 *       passes unchanged, later chunks get the previous chunk's last frame in front.</li>
 *   <li>upsample2d: nearest ×2 in H and W, Conv2d 3×3 pad 1, C → C/2.</li>
 *   <li>upsample3d: first time_conv [2C, C, 3, 1, 1] (causal; output channels [0, C) are frame 2t, [C, 2C) frame
 *       2t+1), skipped for the first chunk, whose frame passes alone; then the upsample2d step.</li>
 * </ul>
 */
record VaeResample(String name, Mode mode, Tensor weight, Tensor bias, CausalConv3d timeConv) implements VaeLayer {
    enum Mode { DOWNSAMPLE2D, DOWNSAMPLE3D, UPSAMPLE2D, UPSAMPLE3D }

    static VaeResample load(VaeWeights w, String p, boolean up) {
        boolean temporal = w.has(p + ".time_conv.weight");
        Mode mode = up ? (temporal ? Mode.UPSAMPLE3D : Mode.UPSAMPLE2D) : (temporal ? Mode.DOWNSAMPLE3D : Mode.DOWNSAMPLE2D);
        CausalConv3d tc = temporal ? w.conv(p + ".time_conv", up ? 1 : 0) : null;
        return new VaeResample(p, mode, w.tensor(p + ".resample.1.weight"), w.tensor(p + ".resample.1.bias"), tc);
    }

    boolean temporal() {
        return timeConv != null;
    }

    long outChannels() {
        return weight.size(0);
    }

    @Override
    public Tensor forward(Tensor x, FeatureCache cache) {
        return switch (mode) {
            case DOWNSAMPLE2D -> down(x);
            case DOWNSAMPLE3D -> downTime(down(x), cache);
            case UPSAMPLE2D -> up(x);
            case UPSAMPLE3D -> up(upTime(x, cache));
        };
    }

    private Tensor down(Tensor x) {
        return VaeOps.conv(x, weight, bias, new int[] {1, 2, 2}, new int[] {0, 0, 0, 1, 0, 1});
    }

    private Tensor up(Tensor x) {
        Tensor big = VaeOps.empty(x.device(), x.size(0), x.size(1), 2 * x.size(2), 2 * x.size(3));
        x.backend().upsampleNearest(x, big);
        return VaeOps.conv(big, weight, bias, new int[] {1, 1, 1}, new int[] {0, 0, 1, 1, 1, 1});
    }

    /** Whole clip y₀…y_{2m}: [y₀, tc(y₀,y₁,y₂), tc(y₂,y₃,y₄), …]; chunked: the same, a chunk at a time. */
    private Tensor downTime(Tensor y, FeatureCache cache) {
        int[] stride = {2, 1, 1};
        int[] none = new int[6];
        if (cache.whole()) {
            Tensor reduced = y.size(1) >= 3 ? VaeOps.conv(y, timeConv.weight, timeConv.bias, stride, none) : null;
            return VaeOps.catTime(y.narrow(1, 0, 1), reduced);
        }
        Tensor prev = cache.get(this);
        Tensor out = prev == null ? y : VaeOps.conv(VaeOps.catTime(prev, y), timeConv.weight, timeConv.bias, stride, none);
        cache.put(this, VaeOps.own(VaeOps.lastFrames(y, 1))); // frees prev
        return out;
    }

    /** Whole clip u₀…: [u₀, interleave(causal tc(u₁, u₂, …))]; chunked: the first chunk passes, then cached. */
    private Tensor upTime(Tensor x, FeatureCache cache) {
        if (cache.whole()) {
            return x.size(1) == 1 ? x : VaeOps.catTime(x.narrow(1, 0, 1), interleave(timeConv.apply(x.narrow(1, 1, x.size(1) - 1), null)));
        }
        if (cache.get(this) == null) {
            cache.put(this, FeatureCache.REP);
            cache.put(timeConv, FeatureCache.REP);
            return x;
        }
        return interleave(timeConv.forward(x, cache));
    }

    /** [2C, T, H, W] → [C, 2T, H, W]: channels [0, C) become frame 2t, [C, 2C) frame 2t+1. */
    private static Tensor interleave(Tensor y) {
        long c = y.size(0) / 2;
        long t = y.size(1);
        long hw = y.size(2) * y.size(3);
        Tensor out = VaeOps.empty(y.device(), c, 2 * t, y.size(2), y.size(3));
        // y seen as [C, T, 2, H·W] (the pair index is the channel half), out as the same shape contiguously
        Tensor src = new Tensor(y.storage(), y.dtype(), Shape.of(c, t, 2, hw), new long[] {t * hw, hw, c * t * hw, 1},
            y.offset());
        y.backend().copy(src, out.view(c, t, 2, hw));
        return out;
    }
}
