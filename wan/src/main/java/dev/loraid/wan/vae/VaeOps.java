package dev.loraid.wan.vae;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;
import dev.loraid.tensor.UninitializedMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The VAE's tensor helpers over batch-free video tensors [C, T, H, W], all fp32, on the device of the tensors they are
 * given (the model's: {@link WanVae#device}); every op runs on that device's backend.
 */
final class VaeOps {
    private VaeOps() {
    }

    /** A fresh fp32 [dims] tensor on {@code device} (from the open {@link MemoryScope}, if any). */
    static Tensor empty(Device device, long... dims) {
        return Tensor.empty(device, DType.F32, dims);
    }

    /** t itself when it lives on {@code device}, else a copy there (the video or latent a caller hands over). */
    static Tensor onto(Tensor t, Device device) {
        return t.device().equals(device) ? t : t.to(device);
    }

    /**
     * conv3d over x [C, T, H, W] with weight [O, I, kt, kh, kw] (or a 2-D [O, I, kh, kw], applied frame by frame),
     * stride {t, h, w}, zero padding {front, back, top, bottom, left, right}.
     */
    static Tensor conv(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] pad) {
        return conv(x, weight, bias, stride, pad, false);
    }

    /** {@link #conv(Tensor, Tensor, Tensor, int[], int[])} into scope memory, or an {@link #owned} tensor. */
    static Tensor conv(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] pad, boolean owned) {
        Tensor w = weight.rank() == 4 ? weight.unsqueeze(2) : weight;
        long to = (x.size(1) + pad[0] + pad[1] - w.size(2)) / stride[0] + 1;
        long ho = (x.size(2) + pad[2] + pad[3] - w.size(3)) / stride[1] + 1;
        long wo = (x.size(3) + pad[4] + pad[5] - w.size(4)) / stride[2] + 1;
        Tensor out = owned ? owned(x.device(), w.size(0), to, ho, wo) : empty(x.device(), w.size(0), to, ho, wo);
        x.backend().conv3d(x.unsqueeze(0), w, bias, stride, pad, out.unsqueeze(0));
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
        Tensor out = empty(x.device(), x.shape().toArray());
        rmsNorm(x, gammaScaled, out);
        return out;
    }

    /** {@link #rmsNorm(Tensor, Tensor)} written into {@code out} (x's shape, any strides; may be x itself). */
    static void rmsNorm(Tensor x, Tensor gammaScaled, Tensor out) {
        Backend be = x.backend();
        Tensor norm = empty(x.device(), 1, x.size(1), x.size(2), x.size(3));
        be.reduce(ReduceOp.SUM_SQUARES, x, new int[] {0}, norm);
        be.unary(UnaryOp.SQRT, norm, norm);
        be.binaryScalar(BinaryOp.MAX, norm, 1e-12, norm);
        be.binary(BinaryOp.DIV, x, norm, out);
        be.binary(BinaryOp.MUL, out, gammaScaled, out);
    }

    static Tensor siluInPlace(Tensor x) {
        x.backend().unary(UnaryOp.SILU, x, x);
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
        Tensor out = empty(a.device(), a.size(0), a.size(1) + b.size(1), a.size(2), a.size(3));
        a.backend().copy(a, out.narrow(1, 0, a.size(1)));
        a.backend().copy(b, out.narrow(1, a.size(1), b.size(1)));
        return out;
    }

    /**
     * A copy of {@code x} in memory of its own, outside every {@link MemoryScope}, released by {@link #free} (the
     * activation handed from one layer to the next, cache slots): the chunk loop frees each as soon as it is used, so
     * peak memory is one layer's working set, not the sum over a chunk's layers (scopes only release at close).
     */
    static Tensor own(Tensor x) {
        Tensor out = owned(x.device(), x.shape().toArray());
        x.backend().copy(x, out);
        return out;
    }

    /**
     * A fresh fp32 [dims] tensor in memory of its own, outside every {@link MemoryScope}, released by {@link #free}:
     * for a layer's big intermediates, which can then go before the layer ends (a scope only releases at close). On a
     * GPU it is ordinary device memory outside the scopes, given back when unreachable (the CUDA allocator collects
     * before it fails), and {@link #free} leaves it to that.
     */
    static Tensor owned(Device device, long... dims) {
        if (!device.isCpu()) {
            try (MemoryScope outside = MemoryScope.suspend()) {
                return Tensor.empty(device, DType.F32, dims);
            }
        }
        Shape shape = Shape.of(dims);
        Arena arena = Arena.ofShared();
        long bytes = shape.numel() * DType.F32.byteSize();
        // not zeroed: every caller writes all of it (conv outputs, copies, the causal cache's input, AvgDown3d fills)
        MemorySegment seg = UninitializedMemory.allocate(arena, bytes, 64);
        VaeMemory.allocated(bytes);
        return new Tensor(new Storage(Device.CPU, seg, arena), DType.F32, shape, shape.contiguousStrides(), 0);
    }

    /** Whether {@code y} is the whole of an {@link #owned} tensor (not a view into one, not scope memory). */
    private static boolean wholeOwned(Tensor y) {
        return y.storage().owner() instanceof Arena && y.dtype() == DType.F32 && y.spansStorage();
    }

    /**
     * Releases a tensor made by {@link #own} now; anything else (views of inputs, scoped memory) is left alone, and so
     * is one already released (a 2.2 level's first inner step frees the level input, then the level's own step does).
     */
    static void free(Tensor x) {
        if (x != null && x.storage().owner() instanceof Arena a && a.scope().isAlive()) {
            VaeMemory.released(x.storage().byteSize());
            a.close();
        }
    }

    /** A copy of {@code x} that outlives the current {@link MemoryScope}, garbage-collected (results, taps). */
    static Tensor keep(Tensor x) {
        try (MemoryScope outside = MemoryScope.suspend()) {
            Tensor out = Tensor.empty(x.device(), DType.F32, x.shape().toArray());
            x.backend().copy(x, out);
            return out;
        }
    }

    /**
     * One layer step of a chunk: {@code f(x)} with its temporaries in a scope of their own, the result
     * {@link #own}ed and x freed (if owned). x must not be used afterwards. A result that f made with
     * {@link #owned} (whole, and not x itself) is handed over as it is, without a copy: a cache slot must never be
     * returned that way.
     */
    static Tensor step(String name, Tensor x, java.util.function.UnaryOperator<Tensor> f) {
        Tensor y;
        long t0 = System.nanoTime();
        try (MemoryScope layer = MemoryScope.open()) {
            Tensor r = f.apply(x);
            y = wholeOwned(r) && r.storage() != x.storage() ? r : own(r);
            VaeMemory.stepEnd(name, y, System.nanoTime() - t0);
        }
        free(x);
        return y;
    }

    /**
     * Wan 2.2's patchify (spec §2): x [C, T, H, W] → [C·p², T, H/p, W/p] where channel {@code c·p² + r·p + q} holds
     * pixel (row h·p + q, column w·p + r) of channel c (the column offset is the middle index). p = 1 returns x.
     */
    static Tensor patchify(Tensor x, int p) {
        if (p == 1) {
            return x;
        }
        long c = x.size(0);
        long t = x.size(1);
        long h = x.size(2) / p;
        long w = x.size(3) / p;
        long[] s = x.strides();
        Tensor src = new Tensor(x.storage(), x.dtype(), Shape.of(c, p, p, t, h, w),
            new long[] {s[0], s[3], s[2], s[1], s[2] * p, s[3] * p}, x.offset());
        Tensor out = owned(x.device(), c * p * p, t, h, w);
        x.backend().copy(src, out.view(c, p, p, t, h, w));
        return out;
    }

    /** The inverse of {@link #patchify}: y [C·p², T, h, w] written into dst [C, T, h·p, w·p] (any strides). */
    static void unpatchifyInto(Tensor y, int p, Tensor dst) {
        if (p == 1) {
            y.backend().copy(y, dst);
            return;
        }
        long c = dst.size(0);
        long[] s = dst.strides();
        Tensor view = new Tensor(dst.storage(), dst.dtype(), Shape.of(c, p, p, y.size(1), y.size(2), y.size(3)),
            new long[] {s[0], s[3], s[2], s[1], s[2] * p, s[3] * p}, dst.offset());
        y.backend().copy((y.isContiguous() ? y : y.contiguous()).view(c, p, p, y.size(1), y.size(2), y.size(3)), view);
    }

    /** The last {@code n} frames (or all, if fewer) as a view. */
    static Tensor lastFrames(Tensor x, int n) {
        long t = x.size(1);
        return x.narrow(1, Math.max(0, t - n), Math.min(n, t));
    }
}
