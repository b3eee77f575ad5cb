package dev.loraid.wan.vae;

import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

/**
 * Wan 2.2's parameter-free encoder shortcut {@code AvgDown3D(in, out, factor_t, factor_s)} (spec vae-t5.md §2;
 * vae2_2.py): zero-pad time at the front to a multiple of factor_t, fold each (dt, dh, dw) sub-position into the
 * channels (folded channel {@code c·f + (dt·fs + dh)·fs + dw}, f = ft·fs·fs), then average each run of
 * {@code g = in·f/out} consecutive folded channels into one output channel.
 *
 * <p>Computed without the folded tensor: with g dividing f (out a multiple of in, as in every 2.2 level), output
 * channel {@code c·(f/g) + k} is the mean of the g sub-positions {@code k·g … k·g+g−1} of input channel c, so each
 * sub-position is one strided view of x added into one strided view of the output.
 *
 * <p>Inside chunks: the first encode chunk (1 frame) is padded with a zero frame in front and later chunks (4, then 2
 * frames at the temporal levels) need no padding; the pairs are then (0, f₀), (f₁, f₂), … exactly as in the whole
 * clip of 1 + 4k frames, so chunked and whole-clip runs agree (VaeWan22Test).
 */
record AvgDown3d(long in, long out, int ft, int fs) {
    AvgDown3d {
        long f = (long) ft * fs * fs;
        if (in * f % out != 0 || out % in != 0) {
            throw new IllegalArgumentException("AvgDown3D(" + in + ", " + out + ", factor_t " + ft + ", factor_s " + fs
                + "): expected out channels a multiple of in (every Wan 2.2 level)");
        }
    }

    /** x [in, T, H, W] → [out, ceil(T/ft), H/fs, W/fs], an {@link VaeOps#owned} tensor. */
    Tensor apply(Tensor x) {
        long t = x.size(1);
        int padT = (int) ((ft - t % ft) % ft);
        Tensor src = x;
        if (padT > 0) {
            Tensor zeros = VaeOps.empty(x.device(), in, padT, x.size(2), x.size(3));
            x.backend().fill(zeros, 0);
            src = VaeOps.catTime(zeros, x);
        }
        long tt = (t + padT) / ft;
        long hh = x.size(2) / fs;
        long ww = x.size(3) / fs;
        int f = ft * fs * fs;
        long g = in * f / out;
        Tensor y = VaeOps.owned(x.device(), out, tt, hh, ww);
        x.backend().fill(y, 0);
        Tensor byChannel = y.view(in, f / g, tt, hh, ww);
        long[] s = src.strides();
        for (int sub = 0; sub < f; sub++) {
            int dt = sub / (fs * fs);
            int dh = sub / fs % fs;
            int dw = sub % fs;
            Tensor part = new Tensor(src.storage(), src.dtype(), Shape.of(in, tt, hh, ww),
                new long[] {s[0], s[1] * ft, s[2] * fs, s[3] * fs}, src.offset() + dt * s[1] + dh * s[2] + dw * s[3]);
            Tensor into = byChannel.select(1, sub / g);
            x.backend().binary(BinaryOp.ADD, into, part, into);
        }
        x.backend().binaryScalar(BinaryOp.MUL, y, 1.0 / g, y);
        return y;
    }
}
