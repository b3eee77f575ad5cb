package dev.loraid.tensor.cuda;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.BackendOp;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.CopyStream;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.ScopeAllocator;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;
import dev.loraid.tensor.ViewOps;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * The CUDA backend: a dispatcher, as {@code CpuBackend} is, over one object per op family — {@link CudaCopies},
 * {@link CudaElementwise}, {@link CudaGemm} (cuBLASLt), {@link CudaReductions}, {@link CudaSoftmax},
 * {@link CudaNorms}, {@link CudaRope}, {@link CudaAttention}, {@link CudaConv}, {@link CudaRandom}, {@link CudaAdamW} —
 * which launch
 * our NVRTC-compiled kernels (tensor/src/main/cuda). This class binds the context before every op and holds the
 * plumbing the families share (pointers, scratch, casts). All work is enqueued on one stream; only host transfers,
 * {@link #synchronize} and the id check of {@link #gatherRows} wait for it. Floating math runs in fp32, or fp64
 * when every tensor of the op is F64 ({@link dev.loraid.tensor.Precision}; the kernels' {@code _f64} variants).
 */
public final class CudaBackend implements Backend {
    private final CudaContext ctx;
    private final Device device;
    private final CudaAllocator allocator;
    private final CudaKernels kernels;
    private final CudaTransfers transfers;
    // the op families, one object each for the backend's lifetime
    private final CudaElementwise elementwise;
    private final CudaCopies copies;
    private final CudaGemm gemm;
    private final CudaReductions reductions;
    private final CudaSoftmax softmax;
    private final CudaNorms norms;
    private final CudaRope rope;
    private final CudaAttention attention;
    private final CudaConv conv;
    private final CudaRandom random;
    private final CudaAdamW adamw;
    private CudaCopyStream copyStream;

    CudaBackend(CudaContext ctx, Nvrtc nvrtc, CuBlasLt lt, Path kernelCache) {
        this.ctx = ctx;
        this.device = Device.cuda(ctx.index());
        CudaDriver d = ctx.driver();
        this.allocator = new CudaAllocator(CappedMemorySource.fromProperty(new CudaAllocator.Source() {
            @Override
            public long alloc(long bytes) {
                return d.memAlloc(bytes);
            }

            @Override
            public void free(long ptr) {
                d.memFree(ptr);
            }
        }));
        this.kernels = new CudaKernels(ctx, nvrtc, new KernelCache(kernelCache));
        kernels.loadAll();
        this.transfers = new CudaTransfers(this);
        this.elementwise = new CudaElementwise(this);
        this.copies = new CudaCopies(this, elementwise);
        this.gemm = new CudaGemm(this, lt);
        this.reductions = new CudaReductions(this);
        this.softmax = new CudaSoftmax(this);
        this.norms = new CudaNorms(this);
        this.rope = new CudaRope(this);
        this.attention = new CudaAttention(this);
        this.conv = new CudaConv(this);
        this.random = new CudaRandom(this);
        this.adamw = new CudaAdamW(this);
    }

    // ---- plumbing shared with the helpers of this package ----

    CudaContext context() {
        return ctx;
    }

    CudaAllocator allocator() {
        return allocator;
    }

    /**
     * The most device memory this backend ever held from the driver at once (tensors, memory scopes and the
     * allocator's cache): the figure to set beside PyTorch's {@code torch.cuda.max_memory_reserved()}.
     */
    public long peakBytesReserved() {
        return allocator.peakBytesReserved();
    }

    CudaKernels kernels() {
        return kernels;
    }

    CudaTransfers transfers() {
        return transfers;
    }

    /** The copy stream beside this backend's compute stream (created on first use). */
    @Override
    public synchronized CopyStream copyStream() {
        if (copyStream == null) {
            copyStream = new CudaCopyStream(this);
        }
        return copyStream;
    }

    CudaScratch scratch() {
        return new CudaScratch(device, allocator);
    }

    /** The device address of {@code t}'s first element; t must live on this device. */
    long pointer(Tensor t) {
        if (!t.device().equals(device)) {
            throw new IllegalArgumentException(t + " is on " + t.device() + ", expected " + device);
        }
        return t.storage().segment().address() + t.offset() * t.dtype().byteSize();
    }

    /** 0 for a missing optional tensor, else its address. */
    long pointerOrNull(Tensor t) {
        return t == null ? 0 : pointer(t);
    }

    Tensor emptyLike(long[] dims, DType dtype) {
        return Tensor.empty(device, dtype, dims);
    }

    /** A contiguous copy of t in {@code dtype} (from the current scope, if any). */
    Tensor cast(Tensor t, DType dtype) {
        Tensor out = emptyLike(t.shape().toArray(), dtype);
        copy(t, out);
        return out;
    }

    Tensor contiguousCopy(Tensor t) {
        return cast(t, t.dtype());
    }

    // ---- Backend: memory ----

    @Override
    public Device device() {
        return device;
    }

    @Override
    public Storage allocate(long bytes) {
        ctx.bind();
        MemoryScope scope = MemoryScope.current();
        if (scope != null) {
            return scope.allocate(this, bytes);
        }
        Object owner = new Object();
        CudaAllocator.Block b = allocator.allocate(bytes, owner);
        return new Storage(device, MemorySegment.ofAddress(b.ptr).reinterpret(bytes), owner);
    }

    @Override
    public ScopeAllocator newScopeAllocator() {
        return new CudaScopeAllocator(device, allocator);
    }

    @Override
    public void synchronize() {
        ctx.synchronize();
    }

    /** The contract, and the fused attention kernels' head-dimension limit ({@link CudaAttention#MAX_HEAD_DIM}). */
    @Override
    public boolean supports(BackendOp op, Tensor... args) {
        if (!Backend.super.supports(op, args)) {
            return false;
        }
        return switch (op) {
            case ATTENTION, ATTENTION_BACKWARD, ATTENTION_WITH_BIAS -> args[0].rank() == 4 && args[2].rank() == 4
                && args[0].size(3) <= CudaAttention.MAX_HEAD_DIM && args[2].size(3) <= CudaAttention.MAX_HEAD_DIM;
            default -> true;
        };
    }

    // ---- data movement ----

    @Override
    public void copy(Tensor src, Tensor dst) {
        ctx.bind();
        if (dst.numel() == 0) {
            return;
        }
        if (!src.device().equals(device) || !dst.device().equals(device)) {
            transfers.copy(src, dst);
            return;
        }
        copies.copy(src, dst);
    }

    @Override
    public void fill(Tensor dst, double value) {
        ctx.bind();
        copies.fill(dst, value);
    }

    @Override
    public void gatherRows(Tensor table, Tensor ids, Tensor out) {
        ctx.bind();
        copies.gatherRows(table, ids, out);
    }

    // ---- GEMM ----

    @Override
    public void matmul(Tensor a, Tensor b, Tensor c, double alpha, double beta, Tensor bias) {
        ctx.bind();
        gemm.matmul(a, b, c, alpha, beta, bias);
    }

    // ---- elementwise ----

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor out) {
        ctx.bind();
        elementwise.unary(op, x, out);
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor x, Tensor dOut, Tensor dx) {
        ctx.bind();
        elementwise.unaryBackward(op, x, dOut, dx);
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        ctx.bind();
        elementwise.binary(op, a, b, out);
    }

    @Override
    public void binaryScalar(BinaryOp op, Tensor a, double scalar, Tensor out) {
        ctx.bind();
        elementwise.binaryScalar(op, a, scalar, out);
    }

    @Override
    public void addScaled(Tensor a, double alpha, Tensor b, double beta, Tensor out) {
        ctx.bind();
        elementwise.addScaled(a, alpha, b, beta, out);
    }

    // ---- reductions ----

    @Override
    public void reduce(ReduceOp op, Tensor x, int[] dims, Tensor out) {
        ctx.bind();
        reductions.reduce(op, x, dims, out);
    }

    // ---- normalisation and activations over the last dimension ----

    @Override
    public void softmax(Tensor x, Tensor out) {
        ctx.bind();
        softmax.forward(x, out);
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        ctx.bind();
        softmax.backward(y, dy, dx);
    }

    @Override
    public void layerNorm(Tensor x, Tensor weight, Tensor bias, double eps, Tensor out, Tensor mean, Tensor rstd) {
        ctx.bind();
        norms.forward(x, weight, bias, eps, out, mean, rstd, false);
    }

    @Override
    public void layerNormBackward(Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dOut, Tensor dx,
                                  Tensor dWeight, Tensor dBias) {
        ctx.bind();
        norms.backward(x, weight, mean, rstd, dOut, dx, dWeight, dBias, false);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, double eps, Tensor out, Tensor rstd) {
        ctx.bind();
        norms.forward(x, weight, null, eps, out, null, rstd, true);
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dOut, Tensor dx, Tensor dWeight) {
        ctx.bind();
        norms.backward(x, weight, null, rstd, dOut, dx, dWeight, null, true);
    }

    @Override
    public void rope(Tensor x, Tensor cos, Tensor sin, boolean inverse, Tensor out) {
        ctx.bind();
        rope.apply(x, cos, sin, inverse, out);
    }

    // ---- attention ----

    /** The attention kernels, for tests that pick a path per call. */
    CudaAttention attentionKernels() {
        return attention;
    }

    @Override
    public void attention(Tensor q, Tensor k, Tensor v, double scale, int[] kvLengths, Tensor out, Tensor lse) {
        ctx.bind();
        attention.forward(q, k, v, scale, kvLengths, out, lse);
    }

    @Override
    public void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor dOut, Tensor lse, double scale,
                                  int[] kvLengths, Tensor dq, Tensor dk, Tensor dv) {
        ctx.bind();
        attention.backward(q, k, v, out, dOut, lse, scale, kvLengths, dq, dk, dv);
    }

    @Override
    public void attentionWithBias(Tensor q, Tensor k, Tensor v, Tensor bias, double scale, int[] kvLengths, Tensor out) {
        ctx.bind();
        attention.forwardWithBias(q, k, v, bias, scale, kvLengths, out);
    }

    // ---- convolution and resampling ----

    @Override
    public void conv3d(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding, Tensor out) {
        ctx.bind();
        conv.forward(x, weight, bias, stride, padding, out);
    }

    @Override
    public void conv3dBackward(Tensor x, Tensor weight, Tensor dOut, int[] stride, int[] padding, Tensor dx,
                               Tensor dWeight, Tensor dBias) {
        ctx.bind();
        conv.backward(x, weight, dOut, stride, padding, dx, dWeight, dBias);
    }

    /** The convolution, for tests that pick a tile budget per call. */
    CudaConv convKernels() {
        return conv;
    }

    /** Composed from this backend's strided copy ({@link ViewOps}). */
    @Override
    public void upsampleNearest(Tensor x, Tensor out) {
        ctx.bind();
        ViewOps.upsampleNearest(this, x, out);
    }

    /** Composed from this backend's fill and strided copy ({@link ViewOps}). */
    @Override
    public void pad(Tensor x, int[] before, Tensor out) {
        ctx.bind();
        ViewOps.pad(this, x, before, out);
    }

    // ---- randomness ----

    @Override
    public void randomUniform(Tensor dst, long seed, long offset) {
        ctx.bind();
        random.uniform(dst, seed, offset);
    }

    @Override
    public void randomNormal(Tensor dst, long seed, long offset) {
        ctx.bind();
        random.normal(dst, seed, offset);
    }

    // ---- optimizer ----

    @Override
    public void adamwUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2,
                            double eps, double weightDecay, long step) {
        ctx.bind();
        adamw.update(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, step);
    }

    @Override
    public void adamw8bitUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor absmaxM, Tensor absmaxV, Tensor mapM,
                                Tensor mapV, double lr, double beta1, double beta2, double eps, double weightDecay,
                                long step) {
        ctx.bind();
        adamw.update8bit(param, grad, m, v, absmaxM, absmaxV, mapM, mapV, lr, beta1, beta2, eps, weightDecay, step);
    }

    @Override
    public String toString() {
        return "CudaBackend[" + device + " " + ctx.name() + ", sm_" + ctx.computeCapability() + "]";
    }
}
