package dev.loraid.tensor.cuda;

import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

/**
 * {@code Backend.attention} and its backward on the path {@link AttentionPath} picks for each call: cuDNN's fused
 * SDPA ({@link CudnnAttention}), then our FlashAttention-2 kernels (attention_flash*.cu), the first tensor-core
 * kernels (attention_mma*.cu) and the scalar ones (attention.cu) — online softmax over key tiles forward; per key
 * tile dK/dV with atomically accumulated dQ backward. Per-batch key lengths go to the device as an I32 vector; lse is
 * staged through a contiguous F32 buffer when the caller's is another layout or absent.
 */
final class CudaAttention {
    static final int BM = 32;
    static final int BN = 32;
    static final int THREADS = 128;
    static final int MAX_HEAD_DIM = 256;
    /** Tiles and head-dim limit of the tensor-core kernel (attention_mma.cu). */
    static final int MMA_BM = 64;
    static final int MMA_BN = 64;
    static final int MMA_MAX_HEAD_DIM = 128;
    /** Keys per block and queries per step of the tensor-core backward (attention_mma_backward.cu). */
    static final int MMA_BWD_BN = 64;
    static final int MMA_BWD_BM = 32;
    /** Query rows per block, threads and head dims of the FLASH forward (attention_flash.cu). */
    static final int FLASH_BM = 128;
    static final int FLASH_THREADS = 128;
    static final java.util.Set<Long> FLASH_HEAD_DIMS = java.util.Set.of(64L, 128L);

    private final CudaBackend b;
    /** The process default ({@code -Dloraid.cuda.attention}); tests pass a path per call. */
    private final AttentionPath configured;
    /** Unset, the loaded {@link CudnnAttention}, or the String reason it could not load. */
    private Object cudnn;

    CudaAttention(CudaBackend backend) {
        this.b = backend;
        this.configured = AttentionPath.fromProperty();
    }

    /**
     * The path that runs a call asked of {@code wanted}, as far as the inputs tell: the first of {@code wanted} and its
     * fallbacks that takes them. The scalar kernels take every call. CUDNN is only judged by the inputs here
     * ({@link CudnnAttention#eligible}); {@link #resolveHere} also asks whether cuDNN loaded on this backend.
     */
    static AttentionPath resolve(AttentionPath wanted, Tensor q, Tensor k, Tensor v, int[] kvLengths) {
        return resolve(wanted, q, k, v, kvLengths, true);
    }

    private static AttentionPath resolve(AttentionPath wanted, Tensor q, Tensor k, Tensor v, int[] kvLengths,
                                         boolean cudnnLoaded) {
        for (AttentionPath p = wanted; ; p = p.fallback()) {
            boolean takes = switch (p) {
                case AUTO -> false; // only a starting point
                case CUDNN -> cudnnLoaded && CudnnAttention.eligible(kvLengths, q, k, v);
                case FLASH -> flashKernel(q, k, v) != null;
                case MMA -> mmaKernel(q, k, v) != null;
                case SCALAR -> true;
            };
            if (takes) {
                return p;
            }
        }
    }

    /** The key lengths that mask anything, or null when every batch attends to all {@code lk} keys. */
    static int[] masking(int[] kvLengths, long lk) {
        if (kvLengths == null) {
            return null;
        }
        for (int len : kvLengths) {
            if (len < lk) {
                return kvLengths;
            }
        }
        return null;
    }

    /** {@link #resolve} on this backend: CUDNN only where libcudnn loaded (cuDNN may still decline a graph). */
    AttentionPath resolveHere(AttentionPath wanted, Tensor q, Tensor k, Tensor v, int[] kvLengths) {
        boolean asksCudnn = false;
        for (AttentionPath p = wanted; p != AttentionPath.SCALAR; p = p.fallback()) {
            asksCudnn |= p == AttentionPath.CUDNN;
        }
        return resolve(wanted, q, k, v, kvLengths, asksCudnn && cudnn() != null);
    }

    /** cuDNN on this backend, loaded on first use; null (said once, at INFO) when it is missing or fails to start. */
    synchronized CudnnAttention cudnn() {
        if (cudnn == null) {
            try {
                cudnn = CudnnAttention.load(b);
            } catch (RuntimeException e) { // missing library, too old, no handle: the kernels run every call
                cudnn = e.getMessage();
                System.getLogger(CudaAttention.class.getName()).log(System.Logger.Level.INFO,
                    "CUDNN attention path unavailable, the kernels run instead: " + e.getMessage());
            }
        }
        return cudnn instanceof CudnnAttention c ? c : null;
    }

    /** Why cuDNN is not available on this backend, or null when it is. */
    String cudnnUnavailableReason() {
        return cudnn() == null ? (String) cudnn : null;
    }

    private static void checkShapes(Tensor q, Tensor k, Tensor v, Tensor out, int[] kvLengths) {
        boolean ok = q.rank() == 4 && k.rank() == 4 && v.rank() == 4 && out.rank() == 4
            && k.size(0) == q.size(0) && v.size(0) == q.size(0) && k.size(1) == q.size(1) && v.size(1) == q.size(1)
            && k.size(3) == q.size(3) && v.size(2) == k.size(2) && out.size(0) == q.size(0) && out.size(1) == q.size(1)
            && out.size(2) == q.size(2) && out.size(3) == v.size(3);
        if (!ok) {
            throw new IllegalArgumentException("attention: expected q [B, H, Lq, D], k [B, H, Lk, D], v [B, H, Lk, Dv], "
                + "out [B, H, Lq, Dv], got " + q.shape() + ", " + k.shape() + ", " + v.shape() + ", " + out.shape());
        }
        if (q.size(3) > MAX_HEAD_DIM || v.size(3) > MAX_HEAD_DIM) {
            throw new IllegalArgumentException("attention: head dims " + q.size(3) + "/" + v.size(3)
                + " exceed the CUDA kernel's " + MAX_HEAD_DIM);
        }
        if (kvLengths != null && kvLengths.length != q.size(0)) {
            throw new IllegalArgumentException("attention: " + kvLengths.length + " kvLengths for batch " + q.size(0));
        }
    }

    private static int elemBytes(String variant) {
        return variant.equals("f64") ? 8 : 4;
    }

    private Tensor lengths(int[] kvLengths, CudaScratch s) {
        if (kvLengths == null) {
            return null;
        }
        long[] l = new long[kvLengths.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = kvLengths[i];
        }
        Tensor dev = s.tensor(DType.I32, l.length);
        b.copy(Tensor.ofLongs(l, l.length), dev);
        return dev;
    }

    /** The caller's lse if the kernels can write/read it in place (contiguous F32 [B, H, Lq]), else scratch. */
    private Tensor lseBuffer(Tensor lse, Tensor q, CudaScratch s, boolean load) {
        long n = q.size(0) * q.size(1) * q.size(2);
        if (lse != null && lse.numel() != n) {
            throw new IllegalArgumentException("attention: lse must be [B, H, Lq] = " + n + " elements, got " + lse.shape());
        }
        if (lse != null && lse.dtype() == DType.F32 && lse.isContiguous()) {
            return lse;
        }
        Tensor t = s.tensor(DType.F32, q.size(0), q.size(1), q.size(2));
        if (load) {
            b.copy(lse.reshape(q.size(0), q.size(1), q.size(2)), t);
        }
        return t;
    }

    /**
     * The tensor-core kernel's name when it takes this call — q, k, v all BF16 or all F16, head dims multiples of
     * 16 up to 128 — else null (the scalar kernels take every other case).
     */
    static String mmaKernel(Tensor q, Tensor k, Tensor v) {
        DType t = q.dtype();
        boolean ok = (t == DType.BF16 || t == DType.F16) && k.dtype() == t && v.dtype() == t
            && q.size(3) % 16 == 0 && v.size(3) % 16 == 0 && q.size(3) <= MMA_MAX_HEAD_DIM && v.size(3) <= MMA_MAX_HEAD_DIM;
        return ok ? "attention_forward_mma_" + (t == DType.BF16 ? "bf16" : "f16") : null;
    }

    /**
     * The FLASH forward kernel's name when it takes this call — q, k, v all BF16 or all F16, D = Dv an instantiated
     * head dim, every row unit-stride and starting 16 bytes aligned (the kernel copies rows with 16-byte cp.async) —
     * else null. Any out view is taken (the kernel stores 16 bytes at a time only where out allows).
     */
    static String flashKernel(Tensor q, Tensor k, Tensor v) {
        DType t = q.dtype();
        long d = q.size(3);
        boolean ok = (t == DType.BF16 || t == DType.F16) && k.dtype() == t && v.dtype() == t
            && FLASH_HEAD_DIMS.contains(d) && k.size(3) == d && v.size(3) == d
            && rowsAligned16(q) && rowsAligned16(k) && rowsAligned16(v);
        return ok ? "attention_flash_forward_" + (t == DType.BF16 ? "bf16" : "f16") + "_d" + d : null;
    }

    /** Keys per tile of the FLASH forward at head dim {@code d} (FB_N in attention_flash.cu). */
    static int flashKeysPerTile(long d) {
        return d <= 64 ? 64 : 32;
    }

    /**
     * Whether every row (last dimension) of a 16-bit [B, H, L, D] view is unit-stride and starts on a 16-byte
     * boundary: first element aligned, and the strides of the outer dimensions (that have more than one index)
     * multiples of 8 elements.
     */
    static boolean rowsAligned16(Tensor t) {
        long first = t.storage().segment().address() + t.offset() * t.dtype().byteSize();
        if (t.stride(3) != 1 || first % 16 != 0) {
            return false;
        }
        for (int i = 0; i < 3; i++) {
            if (t.size(i) > 1 && t.stride(i) % 8 != 0) {
                return false;
            }
        }
        return true;
    }

    void forward(Tensor q, Tensor k, Tensor v, double scale, int[] kvLengths, Tensor out, Tensor lse) {
        forward(configured, q, k, v, scale, kvLengths, out, lse);
    }

    /** The forward on {@code path} (or its fallback: {@link #resolve}); returns the path that ran. */
    AttentionPath forward(AttentionPath path, Tensor q, Tensor k, Tensor v, double scale, int[] kvLengths, Tensor out,
                          Tensor lse) {
        checkShapes(q, k, v, out, kvLengths);
        kvLengths = masking(kvLengths, k.size(2));
        AttentionPath p = resolveHere(path, q, k, v, kvLengths);
        if (q.numel() == 0 || out.numel() == 0) {
            return p;
        }
        if (p == AttentionPath.CUDNN) {
            if (CudnnAttention.eligible(kvLengths, q, k, v, out)) {
                try (CudaScratch s = b.scratch()) {
                    Tensor l = lseBuffer(lse, q, s, false); // cuDNN always writes its stats
                    if (cudnn().forward(q, k, v, scale, out, l)) {
                        storeLse(l, lse);
                        return p;
                    }
                }
            }
            p = resolve(p.fallback(), q, k, v, kvLengths);
        }
        long d = q.size(3);
        long dv = v.size(3);
        String flash = p == AttentionPath.FLASH ? flashKernel(q, k, v) : null;
        String mma = p == AttentionPath.MMA ? mmaKernel(q, k, v) : null;
        String variant = CudaKernels.variant(q, k, v, out);
        String module;
        String kernel;
        int rowsPerBlock;
        int threads;
        long shared;
        if (flash != null) { // Q, then two stages of K and V, rows padded by 16 bytes
            module = "attention_flash";
            kernel = flash;
            rowsPerBlock = FLASH_BM;
            threads = FLASH_THREADS;
            shared = (FLASH_BM + 4L * flashKeysPerTile(d)) * (d + 8) * 2;
        } else if (mma != null) { // Q, K, Vᵀ
            module = "attention_mma";
            kernel = mma;
            rowsPerBlock = MMA_BM;
            threads = THREADS;
            shared = (MMA_BM * (d + 8) + MMA_BN * (d + 8) + dv * (MMA_BN + 8)) * 2;
        } else {
            module = "attention";
            kernel = "attention_forward_" + variant;
            rowsPerBlock = BM;
            threads = THREADS;
            shared = scalarForwardShared(d, dv, variant);
        }
        try (CudaScratch s = b.scratch()) {
            Tensor lens = lengths(kvLengths, s);
            Tensor l = lse == null ? null : lseBuffer(lse, q, s, false);
            int gx = (int) ((q.size(2) + rowsPerBlock - 1) / rowsPerBlock);
            int gy = Math.toIntExact(q.size(0) * q.size(1));
            b.kernels().launch(module, kernel, gx, gy, threads, 1, (int) shared, a -> a
                .struct(CudaLayout.pack(a.arena(), q)).struct(CudaLayout.pack(a.arena(), k))
                .struct(CudaLayout.pack(a.arena(), v)).struct(CudaLayout.pack(a.arena(), out))
                .ptr(b.pointer(q)).ptr(b.pointer(k)).ptr(b.pointer(v)).ptr(b.pointer(out))
                .ptr(b.pointerOrNull(l)).ptr(b.pointerOrNull(lens)).f64(scale));
            storeLse(l, lse);
        }
        return p;
    }

    /**
     * {@code Backend.attentionWithBias}: the scalar forward kernel with the bias [B, H, Lq, Lk] read tile by tile from
     * its own strided view (any float dtype, stride 0 over a broadcast batch allowed), so no other [Lq, Lk] buffer
     * exists. The fused paths (cuDNN, FLASH, MMA) take no bias; the text encoder this serves is small next to the DiT.
     */
    void forwardWithBias(Tensor q, Tensor k, Tensor v, Tensor bias, double scale, int[] kvLengths, Tensor out) {
        checkShapes(q, k, v, out, kvLengths);
        long[] expect = {q.size(0), q.size(1), q.size(2), k.size(2)};
        if (!java.util.Arrays.equals(bias.shape().toArray(), expect)) {
            throw new IllegalArgumentException("attentionWithBias: bias " + bias.shape() + ", expected "
                + java.util.Arrays.toString(expect) + " ([B, H, Lq, Lk] of q " + q.shape() + ", k " + k.shape() + ")");
        }
        kvLengths = masking(kvLengths, k.size(2));
        if (q.numel() == 0 || out.numel() == 0) {
            return;
        }
        String variant = CudaKernels.variant(q, k, v, bias, out);
        long shared = scalarForwardShared(q.size(3), v.size(3), variant);
        try (CudaScratch s = b.scratch()) {
            Tensor lens = lengths(kvLengths, s);
            int gx = (int) ((q.size(2) + BM - 1) / BM);
            int gy = Math.toIntExact(q.size(0) * q.size(1));
            b.kernels().launch("attention", "attention_forward_bias_" + variant, gx, gy, THREADS, 1, (int) shared, a -> a
                .struct(CudaLayout.pack(a.arena(), q)).struct(CudaLayout.pack(a.arena(), k))
                .struct(CudaLayout.pack(a.arena(), v)).struct(CudaLayout.pack(a.arena(), out))
                .struct(CudaLayout.pack(a.arena(), bias))
                .ptr(b.pointer(q)).ptr(b.pointer(k)).ptr(b.pointer(v)).ptr(b.pointer(out)).ptr(b.pointer(bias))
                .ptr(b.pointerOrNull(lens)).f64(scale));
        }
    }

    /** Shared memory of the scalar forward (attention.cu): Q, K, V tiles and the probabilities, rows padded by one. */
    static long scalarForwardShared(long d, long dv, String variant) {
        return (BM * (d + 1) + BN * (d + 1) + BN * (dv + 1) + BM * (BN + 1)) * elemBytes(variant);
    }

    /** Copies a staged lse into the caller's tensor (nothing when the kernels wrote the caller's own, or none). */
    private void storeLse(Tensor staged, Tensor lse) {
        if (lse != null && staged != lse) {
            b.copy(staged.reshape(lse.shape().toArray()), lse);
        }
    }

    /** The backward on cuDNN: lse staged as contiguous F32, or recomputed by a cuDNN forward when absent. */
    private boolean cudnnBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor dOut, Tensor lse, double scale,
                                  Tensor dq, Tensor dk, Tensor dv) {
        try (CudaScratch s = b.scratch()) {
            Tensor l = lseBuffer(lse, q, s, lse != null);
            if (lse == null && !cudnn().forward(q, k, v, scale, s.tensor(out.dtype(), out.shape().toArray()), l)) {
                return false;
            }
            return cudnn().backward(q, k, v, out, dOut, l, scale, dq, dk, dv);
        }
    }

    void backward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor dOut, Tensor lse, double scale, int[] kvLengths,
                  Tensor dq, Tensor dk, Tensor dv) {
        backward(configured, q, k, v, out, dOut, lse, scale, kvLengths, dq, dk, dv);
    }

    /** The backward on {@code path} (or its fallback: {@link #resolve}); returns the path that ran. */
    AttentionPath backward(AttentionPath path, Tensor q, Tensor k, Tensor v, Tensor out, Tensor dOut, Tensor lse,
                           double scale, int[] kvLengths, Tensor dq, Tensor dk, Tensor dv) {
        checkShapes(q, k, v, out, kvLengths);
        kvLengths = masking(kvLengths, k.size(2));
        AttentionPath p = resolveHere(path, q, k, v, kvLengths);
        if (p == AttentionPath.CUDNN) {
            if (q.numel() > 0 && CudnnAttention.eligible(kvLengths, q, k, v, out, dOut, dq, dk, dv)
                && cudnnBackward(q, k, v, out, dOut, lse, scale, dq, dk, dv)) {
                return p;
            }
            p = resolve(p.fallback(), q, k, v, kvLengths);
        }
        if (p == AttentionPath.FLASH && !CudaFlashAttentionBackward.takes(q, k, v, dOut)) {
            p = resolve(p.fallback(), q, k, v, kvLengths);
        }
        String variant = CudaKernels.variant(q, k, v, out, dOut, dq, dk, dv);
        DType acc = variant.equals("f64") ? DType.F64 : DType.F32;
        long bh = q.size(0) * q.size(1);
        long lq = q.size(2);
        long d = q.size(3);
        long dvDim = v.size(3);
        try (CudaScratch s = b.scratch()) {
            Tensor lens = lengths(kvLengths, s);
            Tensor l;
            if (lse != null) {
                l = lseBuffer(lse, q, s, true);
            } else { // not kept by the caller: one forward pass recomputes it (as the CPU backend does)
                l = s.tensor(DType.F32, q.size(0), q.size(1), lq);
                forward(p, q, k, v, scale, kvLengths, s.tensor(out.dtype(), out.shape().toArray()), l);
            }
            Tensor delta = s.tensor(acc, bh * lq);
            Tensor dqAcc = s.tensor(acc, q.size(0), q.size(1), lq, d);
            b.fill(dqAcc, 0);
            b.kernels().launch1d("attention", "attention_backward_delta_" + variant, bh * lq * 32, a -> a // a warp a row
                .struct(CudaLayout.pack(a.arena(), out)).struct(CudaLayout.pack(a.arena(), dOut))
                .ptr(b.pointer(out)).ptr(b.pointer(dOut)).ptr(b.pointer(delta)));
            boolean flash = p == AttentionPath.FLASH;
            String mma = p == AttentionPath.MMA ? mmaKernel(q, k, v) : null;
            String module = flash ? "attention_flash_backward" : mma != null ? "attention_mma_backward" : "attention";
            String kernel = flash ? CudaFlashAttentionBackward.kernel(q)
                : mma != null ? mma.replace("forward", "backward") : "attention_backward_" + variant;
            int keysPerBlock = flash ? CudaFlashAttentionBackward.KEYS : mma != null ? MMA_BWD_BN : BN;
            int shared = flash ? CudaFlashAttentionBackward.sharedBytes(d) : (int) (mma != null
                // K, Kᵀ, V, Q, Qᵀ, dO, dOᵀ, dS (16-bit), then lse and delta (fp32): attention_mma_backward.cu
                ? (MMA_BWD_BN * (d + 8) + d * (MMA_BWD_BN + 8) + MMA_BWD_BN * (dvDim + 8) + MMA_BWD_BM * (d + 8)
                    + d * (MMA_BWD_BM + 8) + MMA_BWD_BM * (dvDim + 8) + dvDim * (MMA_BWD_BM + 8)
                    + MMA_BWD_BM * (MMA_BWD_BN + 8)) * 2 + 2L * MMA_BWD_BM * 4
                : (BN * (d + 1) + BN * (dvDim + 1) + BM * (d + 1) + BM * (dvDim + 1) + 2L * BM * (BN + 1) + 2L * BM)
                    * elemBytes(variant));
            int gx = (int) Math.max(1, (k.size(2) + keysPerBlock - 1) / keysPerBlock);
            int threads = flash ? CudaFlashAttentionBackward.THREADS : THREADS;
            b.kernels().launch(module, kernel, gx, Math.toIntExact(bh), threads, 1, shared,
                a -> a.struct(CudaLayout.pack(a.arena(), q)).struct(CudaLayout.pack(a.arena(), k))
                    .struct(CudaLayout.pack(a.arena(), v)).struct(CudaLayout.pack(a.arena(), dOut))
                    .struct(CudaLayout.pack(a.arena(), dk)).struct(CudaLayout.pack(a.arena(), dv))
                    .ptr(b.pointer(q)).ptr(b.pointer(k)).ptr(b.pointer(v)).ptr(b.pointer(dOut))
                    .ptr(b.pointer(dk)).ptr(b.pointer(dv)).ptr(b.pointer(l)).ptr(b.pointer(delta))
                    .ptr(b.pointer(dqAcc)).ptr(b.pointerOrNull(lens)).f64(scale));
            b.copy(dqAcc, dq);
        }
        return p;
    }
}
