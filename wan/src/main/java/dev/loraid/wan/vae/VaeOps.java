package dev.loraid.wan.vae;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.Backends;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;

/**
 * The VAE's tensor helpers over batch-free video tensors [C, T, H, W], all fp32 on the CPU (the CUDA backend has no
 * convolution yet: {@code supports(CONV3D)} is false there, so the VAE runs on the CPU whatever device is asked).
 */
final class VaeOps {
    static final Backend CPU = Backends.cpu();

    private VaeOps() {
    }

    /** A fresh fp32 [dims] tensor (from the open {@link MemoryScope}, if any). */
    static Tensor empty(long... dims) {
        return Tensor.empty(CPU.device(), DType.F32, dims);
    }

    /**
     * conv3d over x [C, T, H, W] with weight [O, I, kt, kh, kw] (or a 2-D [O, I, kh, kw], applied frame by frame),
     * stride {t, h, w}, zero padding {front, back, top, bottom, left, right}.
     */
    static Tensor conv(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] pad) {
        Tensor w = weight.rank() == 4 ? weight.unsqueeze(2) : weight;
        long to = (x.size(1) + pad[0] + pad[1] - w.size(2)) / stride[0] + 1;
        long ho = (x.size(2) + pad[2] + pad[3] - w.size(3)) / stride[1] + 1;
        long wo = (x.size(3) + pad[4] + pad[5] - w.size(4)) / stride[2] + 1;
        Tensor out = empty(w.size(0), to, ho, wo);
        CPU.conv3d(x.unsqueeze(0), w, bias, stride, pad, out.unsqueeze(0));
        return out;
    }

    /** A 1×1(×1) convolution: a per-position linear map over channels. */
    static Tensor conv1x1(Tensor x, Tensor weight, Tensor bias) {
        return conv(x, weight, bias, new int[] {1, 1, 1}, new int[6]);
    }

    /**
     * The VAE's RMS_norm over channels (spec vae-t5.md §1.1): {@code x / max(‖x‖₂, 1e-12) · sqrt(C) · gamma},
     * {@code gammaScaled = sqrt(C)·gamma} as [C, 1, 1, 1].
     */
    static Tensor rmsNorm(Tensor x, Tensor gammaScaled) {
        Tensor norm = empty(1, x.size(1), x.size(2), x.size(3));
        CPU.reduce(ReduceOp.SUM_SQUARES, x, new int[] {0}, norm);
        CPU.unary(UnaryOp.SQRT, norm, norm);
        CPU.binaryScalar(BinaryOp.MAX, norm, 1e-12, norm);
        Tensor out = empty(x.shape().toArray());
        CPU.binary(BinaryOp.DIV, x, norm, out);
        CPU.binary(BinaryOp.MUL, out, gammaScaled, out);
        return out;
    }

    static Tensor siluInPlace(Tensor x) {
        CPU.unary(UnaryOp.SILU, x, x);
        return x;
    }

    /** [a; b] along time (either may be null). */
    static Tensor catTime(Tensor a, Tensor b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        Tensor out = empty(a.size(0), a.size(1) + b.size(1), a.size(2), a.size(3));
        CPU.copy(a, out.narrow(1, 0, a.size(1)));
        CPU.copy(b, out.narrow(1, a.size(1), b.size(1)));
        return out;
    }

    /** A copy of {@code x} that outlives the current {@link MemoryScope} (cache state, results, taps). */
    static Tensor keep(Tensor x) {
        try (MemoryScope outside = MemoryScope.suspend()) {
            Tensor out = Tensor.empty(CPU.device(), DType.F32, x.shape().toArray());
            CPU.copy(x, out);
            return out;
        }
    }

    /** The last {@code n} frames (or all, if fewer) as a view. */
    static Tensor lastFrames(Tensor x, int n) {
        long t = x.size(1);
        return x.narrow(1, Math.max(0, t - n), Math.min(n, t));
    }
}
