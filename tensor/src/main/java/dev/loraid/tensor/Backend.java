package dev.loraid.tensor;

/**
 * The operations a device provides: allocation, copies and the kernel set the models need. Implemented by the
 * CPU (Vector API) and CUDA backends; everything above the tensor module talks only to this interface.
 *
 * <p>Conventions shared by every method:
 * <ul>
 *   <li>Outputs are passed in ({@code out}, {@code dx}, …), already allocated with the right shape; they may be
 *       strided views (e.g. a slice of a bigger tensor, for concatenation). Inputs may be any strided views.</li>
 *   <li>Floating inputs may be F32, F64, BF16, F16 (and FP8 where noted); math runs in fp32 (fp64 when every
 *       tensor involved is F64, for gradient checks); narrow inputs are widened tile by tile, never as a whole.</li>
 *   <li>"Last dimension" ops (norms, softmax) treat all leading dimensions as independent rows.</li>
 *   <li>Every tensor argument lives on {@link #device()}, except the one side of {@link #copy} that may be on
 *       the host.</li>
 * </ul>
 */
public interface Backend {
    Device device();

    /** Allocates uninitialised memory, from the current {@link MemoryScope} when one is open on this thread. */
    Storage allocate(long bytes);

    /** A fresh allocator for {@link MemoryScope}s on this device. */
    ScopeAllocator newScopeAllocator();

    /** Waits until all queued work on this device has finished (no-op on the CPU). */
    void synchronize();

    /**
     * Whether this backend runs {@code op} over these tensor arguments (in the method's order, null for an absent
     * optional one), so that a caller can fall back (e.g. to the CPU) instead of failing: the dtype and device
     * contract of {@link BackendOp}, narrowed by a backend's own limits. Shapes are not checked here.
     */
    default boolean supports(BackendOp op, Tensor... args) {
        return op.problem(device(), args) == null;
    }

    // ---- data movement ----

    /**
     * {@code dst[...] = cast(src[...])}: any strides, any dtypes, {@code src} broadcastable to {@code dst}.
     * One of the two may be on the host when this backend is a GPU (host-device transfers).
     */
    void copy(Tensor src, Tensor dst);

    /** Host-to-device copies beside this device's compute ({@link CopyStream#SYNCHRONOUS} where there is none). */
    default CopyStream copyStream() {
        return CopyStream.SYNCHRONOUS;
    }

    /** Sets every element of {@code dst} to {@code value} (cast to its dtype). */
    void fill(Tensor dst, double value);

    /**
     * Row gather (embedding lookup): {@code out[i, :] = table[ids[i], :]}. table [V, D], ids I64 or I32 [N],
     * out [N, D]. An id outside [0, V) is an error naming it.
     */
    void gatherRows(Tensor table, Tensor ids, Tensor out);

    // ---- GEMM ----

    /**
     * {@code c = alpha · (a @ b) + beta · c + bias}. a [..., M, K], b [..., K, N], c [..., M, N], batch dimensions
     * broadcast (a 2-D {@code b} is shared by every batch). Transposed operands are expressed as views
     * ({@code w.transpose(0, 1)}); either of the last two dimensions may have stride 1. bias: null or [N].
     * b may be BF16/F16/FP8 (weights stay in their file dtype; a per-tensor FP8 scale goes into alpha).
     * With {@code beta == 0} the old contents of c are ignored (NaNs included).
     */
    void matmul(Tensor a, Tensor b, Tensor c, double alpha, double beta, Tensor bias);

    // ---- elementwise ----

    void unary(UnaryOp op, Tensor x, Tensor out);

    /** {@code dx = dOut · op'(x)}. */
    void unaryBackward(UnaryOp op, Tensor x, Tensor dOut, Tensor dx);

    /** {@code out = op(a, b)}, a and b broadcast to out's shape. */
    void binary(BinaryOp op, Tensor a, Tensor b, Tensor out);

    /** {@code out = op(a, scalar)}. */
    void binaryScalar(BinaryOp op, Tensor a, double scalar, Tensor out);

    /** {@code out = a · alpha + b · beta}, a and b broadcast to out's shape (axpby; also residual adds). */
    void addScaled(Tensor a, double alpha, Tensor b, double beta, Tensor out);

    // ---- reductions ----

    /**
     * Reduces {@code x} over {@code dims}; {@code out} has x's rank with those dimensions of size 1 (keepdim).
     * Accumulates in fp32 (fp64 for F64).
     */
    void reduce(ReduceOp op, Tensor x, int[] dims, Tensor out);

    // ---- normalisation and activations over the last dimension ----

    void softmax(Tensor x, Tensor out);

    /** {@code dx = y · (dy − Σ dy·y)} with y the softmax output. */
    void softmaxBackward(Tensor y, Tensor dy, Tensor dx);

    /**
     * LayerNorm over the last dimension: {@code (x − mean) · rstd · weight + bias}. weight and bias: null or [D].
     * mean and rstd: null, or [rows] F32 receiving the statistics for the backward pass.
     */
    void layerNorm(Tensor x, Tensor weight, Tensor bias, double eps, Tensor out, Tensor mean, Tensor rstd);

    /** Writes dx, and dWeight/dBias ([D], overwritten, not accumulated) when they are non-null. */
    void layerNormBackward(Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dOut,
                           Tensor dx, Tensor dWeight, Tensor dBias);

    /** RMSNorm over the last dimension: {@code x · rstd · weight}, rstd = 1/sqrt(mean(x²) + eps). */
    void rmsNorm(Tensor x, Tensor weight, double eps, Tensor out, Tensor rstd);

    void rmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dOut, Tensor dx, Tensor dWeight);

    /**
     * Rotary embedding on channel pairs (2j, 2j+1) read as (real, imag) (spec wan.md §2.8): x [..., L, H, D],
     * cos and sin [L, D/2] (F32 or F64); pair j of token l is rotated by the angle whose cos/sin are given.
     * {@code inverse} rotates by the negated angle (the backward pass).
     */
    void rope(Tensor x, Tensor cos, Tensor sin, boolean inverse, Tensor out);

    // ---- attention ----

    /**
     * Scaled-dot-product attention {@code softmax(q·kᵀ·scale)·v}, computed tile by tile with an online softmax:
     * never an [Lq, Lk] matrix in memory. q [B, H, Lq, D], k [B, H, Lk, D], v [B, H, Lk, Dv], out [B, H, Lq, Dv],
     * typically permuted views of [B, L, H, D] memory. kvLengths: null, or per batch the number of valid keys
     * (later keys are masked). lse: null, or [B, H, Lq] F32 receiving each row's log-sum-exp for the backward.
     */
    void attention(Tensor q, Tensor k, Tensor v, double scale, int[] kvLengths, Tensor out, Tensor lse);

    /** Backward of {@link #attention}, recomputing the probabilities tile by tile from q, k and lse. */
    void attentionBackward(Tensor q, Tensor k, Tensor v, Tensor out, Tensor dOut, Tensor lse, double scale,
                           int[] kvLengths, Tensor dq, Tensor dk, Tensor dv);

    /**
     * {@link #attention} with an additive bias on the scaled scores, {@code softmax(q·kᵀ·scale + bias)·v}: bias
     * [B, H, Lq, Lk], any strides (T5's relative position bias is one [H, Lq, Lk] table expanded over the batch with
     * stride 0), read tile by tile; no other [Lq, Lk] buffer exists. kvLengths as in {@link #attention}. Forward only
     * (the frozen text encoder's attention).
     */
    void attentionWithBias(Tensor q, Tensor k, Tensor v, Tensor bias, double scale, int[] kvLengths, Tensor out);

    // ---- convolution and resampling ----

    /**
     * 3-D convolution (cross-correlation, as PyTorch): x [N, I, T, H, W], weight [O, I, kt, kh, kw], bias null or
     * [O], out [N, O, To, Ho, Wo] with {@code To = (T + front + back − kt) / stride[0] + 1} (likewise H, W).
     * stride = {t, h, w}; padding = {front, back, top, bottom, left, right}, zeros, so that causal (front-only)
     * time padding and one-sided spatial padding need no separate copy. A 2-D convolution is kt = 1.
     */
    void conv3d(Tensor x, Tensor weight, Tensor bias, int[] stride, int[] padding, Tensor out);

    /**
     * Backward of {@link #conv3d} (stride and padding as there), dOut shaped as its out: writes dx (shaped as x),
     * dWeight (as weight) and dBias ([O]), each overwritten, not accumulated; a null one is not computed. A 2-D
     * convolution's backward is kt = 1 here too.
     */
    void conv3dBackward(Tensor x, Tensor weight, Tensor dOut, int[] stride, int[] padding, Tensor dx, Tensor dWeight,
                        Tensor dBias);

    /** Nearest-neighbour upsampling by the integer factors out.size(d) / x.size(d), every dimension. */
    void upsampleNearest(Tensor x, Tensor out);

    /** Zero padding: x placed at offset {@code before[d]} of each dimension of out, zeros elsewhere. */
    void pad(Tensor x, int[] before, Tensor out);

    // ---- randomness (counter-based: the same seed gives the same numbers on every backend) ----

    /** Element i (row-major over dst's shape) gets uniform [0, 1) number {@code offset + i} of stream {@code seed}. */
    void randomUniform(Tensor dst, long seed, long offset);

    /** Standard normal numbers, counter-based as {@link #randomUniform}. */
    void randomNormal(Tensor dst, long seed, long offset);

    // ---- optimizer ----

    /**
     * One decoupled-weight-decay Adam update, in place (PyTorch AdamW): all of param, grad, m, v F32 and the same
     * shape. {@code step} counts from 1 (bias correction).
     */
    void adamwUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, double lr, double beta1, double beta2,
                     double eps, double weightDecay, long step);

    /**
     * One bitsandbytes AdamW8bit update, in place ({@code --optimizer_type AdamW8bit}): the moments m, v are 8-bit codes
     * into the maps {@code mapM} (signed) and {@code mapV} (unsigned), scaled per {@link DynamicQuant8#BLOCK} elements by
     * {@code absmaxM}, {@code absmaxV}. Per element, in fp32: m ← β1·m + (1 − β1)·g, v ← β2·v + (1 − β2)·g²,
     * p ← p − lr·√(1 − β2^t)/(1 − β1^t) · m/(√v + eps·√(1 − β2^t)), then p ← p·(1 − lr·wd) (decay after the step, as
     * bitsandbytes); a non-finite g leaves p and zeroes its moments. Then each block's absmax becomes its largest |m|, |v|
     * and every moment the code nearest to it over that ({@link DynamicQuant8#nearest}), m's code keeping m's sign.
     * Contract: {@link DynamicQuant8#checkUpdate}.
     */
    void adamw8bitUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor absmaxM, Tensor absmaxV, Tensor mapM,
                         Tensor mapV, double lr, double beta1, double beta2, double eps, double weightDecay, long step);
}
