package dev.loraid.tensor.cuda;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.ReduceOp;
import dev.loraid.tensor.ScopeAllocator;
import dev.loraid.tensor.Storage;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * The CUDA backend: our NVRTC-compiled kernels (tensor/src/main/cuda) for everything but GEMMs, which go to
 * cuBLASLt ({@link CudaGemm}); attention is {@link CudaAttention}'s fused kernel pair. All work is enqueued on one
 * stream; only host transfers, {@link #synchronize} and the id check of {@link #gatherRows} wait for it.
 * Floating math runs in fp32, or fp64 when every tensor of the op is F64 (the kernels' {@code _f64} variants).
 */
public final class CudaBackend implements Backend {
    private final CudaContext ctx;
    private final Device device;
    private final CudaAllocator allocator;
    private final CudaKernels kernels;
    private final CudaGemm gemm;
    private final CudaTransfers transfers;
    private final CudaAttention attention;

    CudaBackend(CudaContext ctx, Nvrtc nvrtc, CuBlasLt lt, Path kernelCache) {
        this.ctx = ctx;
        this.device = Device.cuda(ctx.index());
        CudaDriver d = ctx.driver();
        this.allocator = new CudaAllocator(new CudaAllocator.Source() {
            @Override
            public long alloc(long bytes) {
                return d.memAlloc(bytes);
            }

            @Override
            public void free(long ptr) {
                d.memFree(ptr);
            }
        });
        this.kernels = new CudaKernels(ctx, nvrtc, new KernelCache(kernelCache));
        kernels.loadAll();
        this.gemm = new CudaGemm(this, lt);
        this.transfers = new CudaTransfers(this);
        this.attention = new CudaAttention(this);
    }

    // ---- plumbing shared with the helpers of this package ----

    CudaContext context() {
        return ctx;
    }

    CudaAllocator allocator() {
        return allocator;
    }

    CudaKernels kernels() {
        return kernels;
    }

    Scratch scratch() {
        return new Scratch(device, allocator);
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

    /** Whether every tensor given is F64: then the kernels' fp64 variant runs. */
    static String variant(Tensor... ts) {
        for (Tensor t : ts) {
            if (t != null && t.dtype() != DType.F64) {
                return "f32";
            }
        }
        return "f64";
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
        Tensor s = src.shape().equals(dst.shape()) ? src : src.expand(dst.shape());
        if (s.dtype() == dst.dtype() && s.isContiguous() && dst.isContiguous()) {
            long bytes = dst.numel() * dst.dtype().byteSize();
            CudaProfile.time(ctx, "memcpy device→device", () -> ctx.driver().copyDeviceToDevice(pointer(dst), pointer(s),
                bytes, ctx.stream()));
            return;
        }
        elementwise("copy", "copy_cast", dst, s);
    }

    @Override
    public void fill(Tensor dst, double value) {
        ctx.bind();
        long[][] l = CudaLayout.coalesce(dst.shape().toArray(), dst.strides());
        kernels.launch1d("copy", "fill_value", dst.numel(), a -> a
            .struct(CudaLayout.pack(a.arena(), l[0], l[1], dst.dtype())).ptr(pointer(dst)).i64(dst.numel())
            .f64(value).i64((long) value));
    }

    @Override
    public void gatherRows(Tensor table, Tensor ids, Tensor out) {
        ctx.bind();
        if (table.rank() != 2 || ids.rank() != 1 || out.rank() != 2 || out.size(0) != ids.size(0)
            || out.size(1) != table.size(1)) {
            throw new IllegalArgumentException("gatherRows: expected table [V, D], ids [N], out [N, D], got "
                + table.shape() + ", " + ids.shape() + ", " + out.shape());
        }
        try (Scratch s = scratch()) {
            Tensor err = s.tensor(DType.I64, 2);
            fill(err, 0);
            kernels.launch1d("copy", "gather_rows", out.numel(), a -> a
                .struct(CudaLayout.pack(a.arena(), table)).struct(CudaLayout.pack(a.arena(), ids))
                .struct(CudaLayout.pack(a.arena(), out)).ptr(pointer(table)).ptr(pointer(ids)).ptr(pointer(out))
                .ptr(pointer(err)));
            long[] e = longs(err);
            if (e[0] != 0) {
                throw new IndexOutOfBoundsException("gatherRows: id " + e[1] + " is outside the table's "
                    + table.size(0) + " rows");
            }
        }
    }

    private long[] longs(Tensor deviceI64) {
        Tensor h = transfers.download(deviceI64);
        long[] out = new long[(int) h.numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = h.getLong(i);
        }
        return out;
    }

    // ---- GEMM ----

    @Override
    public void matmul(Tensor a, Tensor b, Tensor c, double alpha, double beta, Tensor bias) {
        ctx.bind();
        gemm.matmul(a, b, c, alpha, beta, bias);
    }

    // ---- elementwise ----

    /**
     * Launches an elementwise kernel over {@code out}'s shape with {@code ins} broadcast to it: arguments are the
     * Layouts of ins then out, their pointers in the same order, the element count, then {@code extra}.
     */
    private void elementwise(String source, String name, Tensor out, Tensor... ins) {
        elementwise(source, name, out, a -> { }, ins);
    }

    /**
     * Launches {@code name} (strided layouts) over {@code out} and {@code ins}, or its {@code _vec} twin (see
     * {@link VecLaunch}) when the call is an fp32-math one ({@code name} ends in {@code _f32}, or a copy between
     * F32/BF16/F16) and the layouts allow 16-byte access.
     */
    private void elementwise(String source, String name, Tensor out, java.util.function.Consumer<KernelArgs> extra,
                             Tensor... ins) {
        long[] dims = out.shape().toArray();
        long[][] strides = new long[ins.length + 1][];
        Tensor[] all = new Tensor[ins.length + 1];
        for (int i = 0; i < ins.length; i++) {
            all[i] = ins[i].shape().equals(out.shape()) ? ins[i] : ins[i].expand(out.shape());
            strides[i] = all[i].strides();
        }
        all[ins.length] = out;
        strides[ins.length] = out.strides();
        long[][] l = CudaLayout.coalesce(dims, strides);
        long n = out.numel();
        if (n == 0) {
            return;
        }
        long[] pointers = new long[all.length];
        for (int i = 0; i < all.length; i++) {
            pointers[i] = pointer(all[i]);
        }
        boolean fp32Math = name.endsWith("_f32") || name.equals("copy_cast")
            && VecLaunch.floatExact(ins[0].dtype()) && VecLaunch.floatExact(out.dtype());
        VecLaunch vec = fp32Math ? VecLaunch.of(l[0], java.util.Arrays.copyOfRange(l, 1, l.length), all, pointers) : null;
        if (vec != null) {
            String vecName = (name.endsWith("_f32") ? name.substring(0, name.length() - 4) : name) + "_vec";
            long groups = n / VecLaunch.WIDTH;
            kernels.launch1d(source, vecName, groups, a -> {
                for (int i = 0; i < ins.length; i++) {
                    a.ptr(pointers[i]).i32(CudaLayout.code(all[i].dtype())).i32(vec.modes()[i]);
                }
                a.ptr(pointers[ins.length]).i32(CudaLayout.code(out.dtype())).i64(n).i64(vec.rowLen());
                extra.accept(a);
            });
            return;
        }
        kernels.launch1d(source, name, n, a -> {
            for (int i = 0; i < all.length; i++) {
                a.struct(CudaLayout.pack(a.arena(), l[0], l[i + 1], all[i].dtype()));
            }
            for (long p : pointers) {
                a.ptr(p);
            }
            a.i64(n);
            extra.accept(a);
        });
    }

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor out) {
        ctx.bind();
        elementwise("elementwise", "unary_" + variant(x, out), out, a -> a.i32(op.ordinal()), x);
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor x, Tensor dOut, Tensor dx) {
        ctx.bind();
        elementwise("elementwise", "unary_backward_" + variant(x, dOut, dx), dx, a -> a.i32(op.ordinal()), x, dOut);
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        ctx.bind();
        elementwise("elementwise", "binary_" + variant(a, b, out), out, k -> k.i32(op.ordinal()), a, b);
    }

    @Override
    public void binaryScalar(BinaryOp op, Tensor a, double scalar, Tensor out) {
        ctx.bind();
        elementwise("elementwise", "binary_scalar_" + variant(a, out), out, k -> k.i32(op.ordinal()).f64(scalar), a);
    }

    @Override
    public void addScaled(Tensor a, double alpha, Tensor b, double beta, Tensor out) {
        ctx.bind();
        elementwise("elementwise", "add_scaled_" + variant(a, b, out), out, k -> k.f64(alpha).f64(beta), a, b);
    }

    // ---- reductions ----

    @Override
    public void reduce(ReduceOp op, Tensor x, int[] dims, Tensor out) {
        ctx.bind();
        int r = x.rank();
        boolean[] reduced = new boolean[r];
        for (int d : dims) {
            reduced[x.shape().normalize(d)] = true;
        }
        long[] outerDims = x.shape().toArray();
        long[] innerDims = new long[dims.length];
        long[] innerStrides = new long[dims.length];
        for (int i = 0, j = 0; i < r; i++) {
            if (reduced[i]) {
                innerDims[j] = x.size(i);
                innerStrides[j++] = x.stride(i);
                outerDims[i] = 1;
            }
        }
        if (!Arrays.equals(outerDims, out.shape().toArray())) {
            throw new IllegalArgumentException("reduce over " + Arrays.toString(dims) + " of " + x.shape()
                + " needs out of shape " + Arrays.toString(outerDims) + ", got " + out.shape());
        }
        long[][] outer = CudaLayout.coalesce(outerDims, x.strides(), out.strides());
        long[][] inner = CudaLayout.coalesce(innerDims, innerStrides);
        long nOut = out.numel();
        long nInner = x.numel() / Math.max(1, nOut);
        kernels.launchRows("reduce", "reduce_" + variant(x, out), nOut, a -> a
            .struct(CudaLayout.pack(a.arena(), outer[0], outer[1], x.dtype()))
            .struct(CudaLayout.pack(a.arena(), inner[0], inner[1], x.dtype()))
            .struct(CudaLayout.pack(a.arena(), outer[0], outer[2], out.dtype()))
            .ptr(pointer(x)).ptr(pointer(out)).i64(nOut).i64(nInner).i32(op.ordinal()));
    }

    // ---- normalisation and activations over the last dimension ----

    private static long rows(Tensor t) {
        return t.numel() / Math.max(1, t.size(-1));
    }

    @Override
    public void softmax(Tensor x, Tensor out) {
        ctx.bind();
        kernels.launchRows("softmax", "softmax_" + variant(x, out), rows(x), a -> a
            .struct(CudaLayout.pack(a.arena(), x)).struct(CudaLayout.pack(a.arena(), out))
            .ptr(pointer(x)).ptr(pointer(out)).i64(rows(x)));
    }

    @Override
    public void softmaxBackward(Tensor y, Tensor dy, Tensor dx) {
        ctx.bind();
        kernels.launchRows("softmax", "softmax_backward_" + variant(y, dy, dx), rows(y), a -> a
            .struct(CudaLayout.pack(a.arena(), y)).struct(CudaLayout.pack(a.arena(), dy))
            .struct(CudaLayout.pack(a.arena(), dx)).ptr(pointer(y)).ptr(pointer(dy)).ptr(pointer(dx)).i64(rows(y)));
    }

    @Override
    public void layerNorm(Tensor x, Tensor weight, Tensor bias, double eps, Tensor out, Tensor mean, Tensor rstd) {
        ctx.bind();
        new CudaNorms(this).forward(x, weight, bias, eps, out, mean, rstd, false);
    }

    @Override
    public void layerNormBackward(Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dOut, Tensor dx,
                                  Tensor dWeight, Tensor dBias) {
        ctx.bind();
        new CudaNorms(this).backward(x, weight, mean, rstd, dOut, dx, dWeight, dBias, false);
    }

    @Override
    public void rmsNorm(Tensor x, Tensor weight, double eps, Tensor out, Tensor rstd) {
        ctx.bind();
        new CudaNorms(this).forward(x, weight, null, eps, out, null, rstd, true);
    }

    @Override
    public void rmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dOut, Tensor dx, Tensor dWeight) {
        ctx.bind();
        new CudaNorms(this).backward(x, weight, null, rstd, dOut, dx, dWeight, null, true);
    }

    @Override
    public void rope(Tensor x, Tensor cos, Tensor sin, boolean inverse, Tensor out) {
        ctx.bind();
        if (x.rank() < 3 || x.size(-1) % 2 != 0 || cos.numel() != x.size(-3) * (x.size(-1) / 2)) {
            throw new IllegalArgumentException("rope: expected x [..., L, H, D] with D even and cos/sin [L, D/2], got x "
                + x.shape() + ", cos " + cos.shape());
        }
        String v = variant(x, cos, sin, out);
        DType t = v.equals("f64") ? DType.F64 : DType.F32;
        try (Scratch s = scratch()) {
            Tensor c = cos.dtype() == t && cos.isContiguous() ? cos : s.tensor(t, cos.shape().toArray());
            Tensor sn = sin.dtype() == t && sin.isContiguous() ? sin : s.tensor(t, sin.shape().toArray());
            if (c != cos) {
                copy(cos, c);
            }
            if (sn != sin) {
                copy(sin, sn);
            }
            long n = x.numel();
            int d = (int) x.size(-1);
            if (v.equals("f32") && d % VecLaunch.WIDTH == 0 && x.isContiguous() && out.isContiguous()
                && VecLaunch.floatExact(x.dtype()) && VecLaunch.floatExact(out.dtype())
                && (pointer(x) | pointer(out) | pointer(c) | pointer(sn)) % 16 == 0) {
                kernels.launch1d("rope", "rope_vec", n / VecLaunch.WIDTH, a -> a
                    .ptr(pointer(x)).i32(CudaLayout.code(x.dtype())).ptr(pointer(out)).i32(CudaLayout.code(out.dtype()))
                    .ptr(pointer(c)).ptr(pointer(sn)).i64(n).i32(d).i32((int) x.size(-2)).i64(x.size(-3))
                    .i32(inverse ? 1 : 0));
                return;
            }
            long pairs = n / 2;
            kernels.launch1d("rope", "rope_" + v, pairs, a -> a
                .struct(CudaLayout.pack(a.arena(), x)).struct(CudaLayout.pack(a.arena(), out))
                .ptr(pointer(x)).ptr(pointer(out)).ptr(pointer(c)).ptr(pointer(sn)).i64(pairs).i32(inverse ? 1 : 0));
        }
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

    // ---- randomness ----

    @Override
    public void randomUniform(Tensor dst, long seed, long offset) {
        random("random_uniform", dst, seed, offset);
    }

    @Override
    public void randomNormal(Tensor dst, long seed, long offset) {
        random("random_normal", dst, seed, offset);
    }

    private void random(String name, Tensor dst, long seed, long offset) {
        ctx.bind();
        kernels.launch1d("philox", name, dst.numel(), a -> a
            .struct(CudaLayout.pack(a.arena(), dst)).ptr(pointer(dst)).i64(dst.numel()).i64(seed).i64(offset));
    }

    // ---- optimizer ----

    @Override
    public void adamwUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2,
                            double eps, double weightDecay, long step) {
        ctx.bind();
        for (Tensor t : new Tensor[] {param, grad, m, v}) {
            if (t.dtype() != DType.F32 || !t.shape().equals(param.shape())) {
                throw new IllegalArgumentException("adamwUpdate: param, grad, m, v must be F32 of shape " + param.shape()
                    + ", got " + t);
            }
        }
        if (step < 1) {
            throw new IllegalArgumentException("adamw step " + step + ", expected >= 1 (steps count from 1)");
        }
        double decay = 1 - lr * weightDecay;
        double stepSize = lr / (1 - Math.pow(beta1, step));
        double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        long[][] l = CudaLayout.coalesce(param.shape().toArray(), param.strides(), grad.strides(), m.strides(), v.strides());
        long n = param.numel();
        kernels.launch1d("adamw", "adamw_update", n, a -> {
            for (int i = 1; i <= 4; i++) {
                a.struct(CudaLayout.pack(a.arena(), l[0], l[i], DType.F32));
            }
            a.ptr(pointer(param)).ptr(pointer(grad)).ptr(pointer(m)).ptr(pointer(v)).i64(n)
                .f64(beta1).f64(beta2).f64(eps).f64(decay).f64(stepSize).f64(bc2Sqrt);
        });
    }

    @Override
    public String toString() {
        return "CudaBackend[" + device + " " + ctx.name() + ", sm_" + ctx.computeCapability() + "]";
    }
}
