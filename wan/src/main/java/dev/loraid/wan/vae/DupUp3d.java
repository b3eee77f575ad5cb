package dev.loraid.wan.vae;

import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

/**
 * Wan 2.2's parameter-free decoder shortcut {@code DupUp3D(in, out, factor_t, factor_s)} (spec vae-t5.md §2;
 * vae2_2.py): repeat each channel {@code r = out·f/in} times (f = ft·fs·fs), read the repeated channels as
 * [out, ft, fs, fs] and unfold them into the (t, h, w) sub-positions; in the first decode chunk the first ft − 1
 * output frames are dropped (the first latent frame becomes one frame, as the main path's upsample3d makes it).
 *
 * <p>With r dividing f (in a multiple of out, as in every 2.2 level), output (o, t·ft+dt, h·fs+dh, w·fs+dw) is input
 * channel {@code o·(f/r) + sub/r} at (t, h, w), sub = (dt·fs + dh)·fs + dw: one strided copy per sub-position.
 */
record DupUp3d(long in, long out, int ft, int fs) {
    DupUp3d {
        long f = (long) ft * fs * fs;
        if (out * f % in != 0 || in % out != 0) {
            throw new IllegalArgumentException("DupUp3D(" + in + ", " + out + ", factor_t " + ft + ", factor_s " + fs
                + "): expected in channels a multiple of out (every Wan 2.2 level)");
        }
    }

    /** x [in, T, H, W] → [out, T·ft (− (ft − 1) for the first chunk), H·fs, W·fs], an {@link VaeOps#owned} tensor. */
    Tensor apply(Tensor x, boolean firstChunk) {
        long t = x.size(1);
        long h = x.size(2);
        long w = x.size(3);
        int f = ft * fs * fs;
        long r = out * f / in;
        Tensor src = x.isContiguous() ? x : x.contiguous();
        Tensor byChannel = src.view(out, in / out, t, h, w);
        long hf = h * fs;
        long wf = w * fs;
        Tensor y = VaeOps.owned(x.device(), out, t * ft, hf, wf);
        long[] ys = y.strides();
        for (int sub = 0; sub < f; sub++) {
            int dt = sub / (fs * fs);
            int dh = sub / fs % fs;
            int dw = sub % fs;
            Tensor into = new Tensor(y.storage(), y.dtype(), Shape.of(out, t, h, w),
                new long[] {ys[0], ys[1] * ft, ys[2] * fs, ys[3] * fs}, dt * ys[1] + dh * ys[2] + dw);
            x.backend().copy(byChannel.select(1, sub / r), into);
        }
        return firstChunk && ft > 1 ? y.narrow(1, ft - 1, t * ft - (ft - 1)) : y;
    }
}
