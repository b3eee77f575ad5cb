package dev.loraid.bench.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.convolutional.Conv3d;
import dev.loraid.bench.harness.BenchTensors;
import dev.loraid.bench.harness.TorchCpu;
import dev.loraid.bench.vae.VaeEncodeCase;
import dev.loraid.tensor.Tensor;

import java.util.HashMap;
import java.util.Map;

/**
 * The Wan 2.1 VAE encoder written independently of ours with DJL's NDArray ops, the way upstream's
 * {@code WanVAE_.encode} runs it (spec vae-t5.md §1): video [1, 3, T, H, W]; frame 0, then chunks of 4 frames, each
 * through the whole encoder with the feature cache (a CausalConv3d keeps its input's last 2 frames and prepends them
 * next time; downsample3d keeps its last frame and skips time_conv on the first chunk); 3-D convs by {@code conv3d}
 * over an explicitly padded input (F.pad, then an unpadded conv, as upstream), resamples and attention frame by frame
 * as (b t) c h w with {@code conv2d}, attention as matmul-softmax-matmul (no SDPA in DJL). Every intermediate is
 * closed as soon as it is consumed, so that PyTorch's memory is what upstream's reference counting would hold.
 */
final class DjlVaeEncoder implements TorchCpu.OutputRun {
    private static final Shape ONE3 = new Shape(1, 1, 1);
    private static final Shape ZERO3 = new Shape(0, 0, 0);

    private final NDManager manager;
    private final VaeEncodeCase data;
    private final Map<String, NDArray> w = new HashMap<>();
    private final NDArray video;

    DjlVaeEncoder(NDManager parent, VaeEncodeCase data) {
        this.manager = parent.newSubManager();
        this.data = data;
        data.weights().forEach((k, t) -> {
            if (k.startsWith("encoder.") || k.startsWith("conv1.")) {
                NDArray a = create(t);
                // gammas enter as sqrt(C)·gamma ([C,1,1,1] / [C,1,1] broadcast over the trailing axes)
                w.put(k, k.endsWith("gamma") ? a.mul((float) Math.sqrt(t.size(0))) : a);
            }
        });
        Tensor v = data.video();
        video = manager.create(BenchTensors.floats(v), new Shape(1, v.size(0), v.size(1), v.size(2), v.size(3)));
    }

    private NDArray create(Tensor t) {
        return manager.create(BenchTensors.floats(t), new Shape(t.shape().toArray()));
    }

    @Override
    public void run() {
        encode().close();
    }

    @Override
    public float[] output() {
        try (NDArray out = encode()) {
            return out.toFloatArray(); // [1, 2z, F, h, w]: mu channels, then log-var
        }
    }

    /** [1, 2z, F, H/8, W/8]; the caller closes it. */
    private NDArray encode() {
        NDManager call = manager.newSubManager();
        Map<String, NDArray> cache = new HashMap<>();
        long t = video.getShape().get(2);
        long chunks = 1 + (t - 1) / 4;
        NDArray out = null;
        try {
            for (long i = 0; i < chunks; i++) {
                long start = i == 0 ? 0 : 1 + 4 * (i - 1);
                long end = i == 0 ? 1 : start + 4;
                NDArray x = video.get(":, :, " + start + ":" + end);
                x.attach(call);
                NDArray h = encoderChunk(x, cache, call);
                if (out == null) {
                    out = h;
                } else {
                    NDArray both = out.concat(h, 2);
                    out.close();
                    h.close();
                    out = both;
                }
            }
            NDArray mu = conv(out, "conv1", 0);
            out.close();
            mu.attach(manager);
            return mu;
        } finally {
            cache.values().forEach(NDArray::close);
            call.close();
        }
    }

    private NDArray encoderChunk(NDArray x, Map<String, NDArray> cache, NDManager call) {
        NDArray h = causal(x, "encoder.conv1", cache, call);
        x.close();
        for (int i = 0; w.containsKey("encoder.downsamples." + i + ".residual.0.gamma")
                || w.containsKey("encoder.downsamples." + i + ".resample.1.weight"); i++) {
            String p = "encoder.downsamples." + i;
            NDArray y = w.containsKey(p + ".residual.0.gamma") ? residual(h, p, cache, call) : resample(h, p, cache, call);
            h.close();
            h = y;
        }
        h = replace(h, residual(h, "encoder.middle.0", cache, call));
        h = replace(h, attention(h, "encoder.middle.1"));
        h = replace(h, residual(h, "encoder.middle.2", cache, call));
        NDArray n = rmsSilu(h, w.get("encoder.head.0.gamma"));
        h.close();
        NDArray y = causal(n, "encoder.head.2", cache, call);
        n.close();
        return y;
    }

    private static NDArray replace(NDArray old, NDArray next) {
        old.close();
        return next;
    }

    /** ResidualBlock: shortcut(x) + conv(silu(rms(conv(silu(rms(x)))))). */
    private NDArray residual(NDArray x, String p, Map<String, NDArray> cache, NDManager call) {
        NDArray h = w.containsKey(p + ".shortcut.weight") ? conv(x, p + ".shortcut", 0) : null;
        NDArray a = rmsSilu(x, w.get(p + ".residual.0.gamma"));
        NDArray r = causal(a, p + ".residual.2", cache, call);
        a.close();
        NDArray b = rmsSilu(r, w.get(p + ".residual.3.gamma"));
        r.close();
        NDArray y = causal(b, p + ".residual.6", cache, call);
        b.close();
        NDArray out = y.add(h == null ? x : h);
        y.close();
        if (h != null) {
            h.close();
        }
        return out;
    }

    /** downsample2d / downsample3d: zero-pad right and bottom, conv2d 3×3 stride 2 per frame; then time_conv. */
    private NDArray resample(NDArray x, String p, Map<String, NDArray> cache, NDManager call) {
        NDArray frames = toFrames(x);
        NDArray padded = frames.pad(new Shape(0, 1, 0, 1), 0);
        frames.close();
        NDArray c = Conv2d.conv2d(padded, w.get(p + ".resample.1.weight"), w.get(p + ".resample.1.bias"),
            new Shape(2, 2)).singletonOrThrow();
        padded.close();
        NDArray y = fromFrames(c, x.getShape().get(2));
        c.close();
        if (!w.containsKey(p + ".time_conv.weight")) {
            return y;
        }
        NDArray prev = cache.get(p);
        if (prev == null) {
            cache.put(p, keep(y.duplicate(), call));
            return y;
        }
        NDArray last = keep(lastFrames(y, 1), call);
        NDArray prevLast = prev.get(":, :, -1:");
        NDArray in = prevLast.concat(y, 2);
        prevLast.close();
        y.close();
        NDArray out = Conv3d.conv3d(in, w.get(p + ".time_conv.weight"), w.get(p + ".time_conv.bias"),
            new Shape(2, 1, 1), ZERO3, ONE3, 1).singletonOrThrow();
        in.close();
        prev.close();
        cache.put(p, last);
        return out;
    }

    /** Frame-wise single-head attention over the H·W pixels, scale 1/sqrt(C), plus the input. */
    private NDArray attention(NDArray x, String p) {
        Shape s = x.getShape();
        long c = s.get(1);
        long t = s.get(2);
        long hw = s.get(3) * s.get(4);
        NDArray frames = toFrames(x); // [T, C, H, W]
        NDArray n = rms(frames, w.get(p + ".norm.gamma"));
        frames.close();
        NDArray qkv = Conv2d.conv2d(n, w.get(p + ".to_qkv.weight"), w.get(p + ".to_qkv.bias")).singletonOrThrow();
        n.close();
        NDArray flat = qkv.reshape(t, 3 * c, hw);
        NDArray seq = flat.transpose(0, 2, 1); // [T, HW, 3C]
        NDArray q = seq.get(":, :, 0:" + c);
        NDArray k = seq.get(":, :, " + c + ":" + 2 * c);
        NDArray v = seq.get(":, :, " + 2 * c + ":");
        NDArray kt = k.transpose(0, 2, 1);
        NDArray raw = q.matMul(kt);
        NDArray scaled = raw.mul((float) (1 / Math.sqrt(c)));
        NDArray probs = scaled.softmax(-1);
        NDArray pv = probs.matMul(v);
        NDArray pvt = pv.transpose(0, 2, 1);
        NDArray o = pvt.reshape(t, c, s.get(3), s.get(4));
        NDArray proj = Conv2d.conv2d(o, w.get(p + ".proj.weight"), w.get(p + ".proj.bias")).singletonOrThrow();
        NDArray y = fromFrames(proj, t);
        NDArray out = y.add(x);
        for (NDArray a : new NDArray[] {qkv, flat, seq, q, k, v, kt, raw, scaled, probs, pv, pvt, o, proj, y}) {
            a.close();
        }
        return out;
    }

    /**
     * CausalConv3d with the feature cache: space zero-padded by (k−1)/2, time by 2 frames in front less the cached
     * frames prepended; a kernel-1-in-time conv ignores the cache. x is not closed.
     */
    private NDArray causal(NDArray x, String key, Map<String, NDArray> cache, NDManager call) {
        if (w.get(key + ".weight").getShape().get(2) == 1) {
            return conv(x, key, 0);
        }
        long t = x.getShape().get(2);
        NDArray prev = cache.get(key);
        NDArray cacheX = keep(lastFrames(x, 2), call);
        if (t < 2 && prev != null) {
            NDArray prevLast = prev.get(":, :, -1:");
            NDArray both = prevLast.concat(cacheX, 2);
            prevLast.close();
            cacheX.close();
            cacheX = keep(both, call);
        }
        NDArray in = prev == null ? x : prev.concat(x, 2);
        NDArray y = conv(in, key, 2 - (prev == null ? 0 : (int) prev.getShape().get(2)));
        if (in != x) {
            in.close();
        }
        if (prev != null) {
            prev.close();
        }
        cache.put(key, cacheX);
        return y;
    }

    /** F.pad (front frames in time, (k−1)/2 in space), then conv3d without padding. */
    private NDArray conv(NDArray x, String key, int front) {
        NDArray weight = w.get(key + ".weight");
        long ph = (weight.getShape().get(3) - 1) / 2;
        long pw = (weight.getShape().get(4) - 1) / 2;
        boolean pad = front > 0 || ph > 0 || pw > 0;
        NDArray in = pad ? x.pad(new Shape(pw, pw, ph, ph, front, 0), 0) : x;
        NDArray y = Conv3d.conv3d(in, weight, w.get(key + ".bias"), ONE3, ZERO3, ONE3, 1).singletonOrThrow();
        if (pad) {
            in.close();
        }
        return y;
    }

    /** F.normalize over channels (dim 1) · (sqrt(C)·gamma), then SiLU; x is not closed. */
    private static NDArray rmsSilu(NDArray x, NDArray gamma) {
        NDArray n = rms(x, gamma);
        NDArray s = Activation.sigmoid(n);
        NDArray y = n.mul(s);
        n.close();
        s.close();
        return y;
    }

    private static NDArray rms(NDArray x, NDArray gamma) {
        NDArray norm = x.norm(new int[] {1}, true);
        NDArray floor = norm.maximum(1e-12f);
        NDArray unit = x.div(floor);
        NDArray y = unit.mul(gamma);
        for (NDArray a : new NDArray[] {norm, floor, unit}) {
            a.close();
        }
        return y;
    }

    /** [1, C, T, H, W] → [T, C, H, W] (upstream's rearrange to (b t) c h w). */
    private static NDArray toFrames(NDArray x) {
        Shape s = x.getShape();
        NDArray view = x.transpose(0, 2, 1, 3, 4);
        NDArray out = view.reshape(s.get(2), s.get(1), s.get(3), s.get(4));
        view.close();
        return out;
    }

    /** [T, C, H, W] → [1, C, T, H, W]. */
    private static NDArray fromFrames(NDArray x, long t) {
        Shape s = x.getShape();
        NDArray view = x.reshape(1, t, s.get(1), s.get(2), s.get(3));
        NDArray out = view.transpose(0, 2, 1, 3, 4);
        view.close();
        return out;
    }

    /** A copy of x's last n frames (all, if fewer), the view released. */
    private static NDArray lastFrames(NDArray x, int n) {
        long t = x.getShape().get(2);
        NDArray view = x.get(":, :, " + Math.max(0, t - n) + ":");
        NDArray copy = view.duplicate();
        view.close();
        return copy;
    }

    /** A cache value: owned by the call's manager, not by the layer's operands. */
    private static NDArray keep(NDArray a, NDManager call) {
        a.attach(call);
        return a;
    }

    @Override
    public void close() {
        manager.close();
    }
}
