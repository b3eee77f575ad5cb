package dev.loraid.autograd;

import dev.loraid.autograd.ops.Add;
import dev.loraid.autograd.ops.AddProduct;
import dev.loraid.autograd.ops.Attention;
import dev.loraid.autograd.ops.BackwardHook;
import dev.loraid.autograd.ops.Concat;
import dev.loraid.autograd.ops.Conv3dOp;
import dev.loraid.autograd.ops.LayerNormOp;
import dev.loraid.autograd.ops.LinearAdd;
import dev.loraid.autograd.ops.LinearOp;
import dev.loraid.autograd.ops.RmsNormOp;
import dev.loraid.autograd.ops.Rope;
import dev.loraid.autograd.ops.Scale;
import dev.loraid.autograd.ops.Softmax;
import dev.loraid.autograd.ops.TensorMath;
import dev.loraid.autograd.ops.Unary;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;
import dev.loraid.tensor.UnaryOp;

import java.util.Arrays;
import java.util.List;

/**
 * The differentiable functions (PyTorch's {@code torch.nn.functional}), one entry point per op class in
 * {@code dev.loraid.autograd.ops}. The most common ones are also methods of {@link Var}.
 */
public final class Ops {
    private Ops() {
    }

    /** {@code x[..., in] @ weightᵀ + bias}; weight [out, in] may be a frozen BF16/FP8 tensor; bias may be null. */
    public static Var linear(Var x, Var weight, Var bias) {
        return LinearOp.apply(x, weight, bias);
    }

    /**
     * {@link #linear(Var, Var, Var)} with its result in {@code out} (mixed precision: a BF16/F16 activation,
     * accumulated in fp32); gradients stay in their usual dtype ({@link TensorMath#gradType}).
     */
    public static Var linear(Var x, Var weight, Var bias, DType out) {
        return LinearOp.apply(x, weight, bias, out);
    }

    /**
     * {@code base + scale · h @ weightᵀ} with weight [O, R], accumulated by the GEMM into a copy of base: a LoRA's
     * {@code y + up(h) · multiplier · scale} in one pass over the output instead of three.
     */
    public static Var linearAdd(Var base, Var h, Var weight, double scale) {
        return LinearAdd.apply(base, h, weight, scale, false);
    }

    /**
     * {@link #linearAdd} accumulated into base's own memory (when it is a contiguous buffer in the compute dtype):
     * for a base that nothing reads afterwards and whose op keeps no copy of it for the backward pass, as the
     * output a {@link dev.loraid.autograd.nn.Linear} hands its adapter. Saves a pass over the output and a second
     * output-sized activation per adapted layer.
     */
    public static Var linearAddInPlace(Var base, Var h, Var weight, double scale) {
        return LinearAdd.apply(base, h, weight, scale, true);
    }

    public static Var matmul(Var a, Var b) {
        return a.matmul(b);
    }

    /** {@code a·alpha + b·beta} with broadcasting, in one pass (e.g. a LoRA's {@code base + up(down(x))·scale}). */
    public static Var addScaled(Var a, double alpha, Var b, double beta) {
        return Add.apply(a, alpha, b, beta);
    }

    /**
     * {@code a + b·c} with broadcasting, the product not kept for the backward pass (a gated residual add: the graph
     * holds b and c, which its gradients need, not their product).
     */
    public static Var addProduct(Var a, Var b, Var c) {
        return AddProduct.apply(a, b, c);
    }

    public static Var addConstant(Var x, double c) {
        return Scale.addConstant(x, c);
    }

    public static Var unary(UnaryOp op, Var x) {
        return Unary.apply(op, x);
    }

    /** {@link #unary(UnaryOp, Var)} computed in fp32 and written in {@code out} (a mixed-precision activation). */
    public static Var unary(UnaryOp op, Var x, DType out) {
        return Unary.apply(op, x, out);
    }

    /** GELU, tanh approximation (Wan's FFN). */
    public static Var gelu(Var x) {
        return Unary.apply(UnaryOp.GELU_TANH, x);
    }

    public static Var silu(Var x) {
        return Unary.apply(UnaryOp.SILU, x);
    }

    public static Var square(Var x) {
        return Unary.apply(UnaryOp.SQUARE, x);
    }

    /** Softmax over the last dimension. */
    public static Var softmax(Var x) {
        return Softmax.apply(x);
    }

    /** LayerNorm over the last dimension; weight and bias may be null (non-affine). */
    public static Var layerNorm(Var x, Var weight, Var bias, double eps) {
        return LayerNormOp.apply(x, weight, bias, eps);
    }

    /** RMSNorm over the last dimension; weight may be null. */
    public static Var rmsNorm(Var x, Var weight, double eps) {
        return RmsNormOp.apply(x, weight, eps);
    }

    /** Rotary embedding of x [..., L, H, D] with constant cos/sin tables [L, D/2] (spec wan.md §2.8). */
    public static Var rope(Var x, Tensor cos, Tensor sin) {
        return Rope.apply(x, cos, sin);
    }

    /** {@link #rope(Var, Tensor, Tensor)} rotated in fp32 and written in {@code out} (a mixed-precision q or k). */
    public static Var rope(Var x, Tensor cos, Tensor sin, DType out) {
        return Rope.apply(x, cos, sin, out);
    }

    /**
     * Scaled-dot-product attention, q [B, H, Lq, D], k [B, H, Lk, D], v [B, H, Lk, Dv] → [B, H, Lq, Dv].
     * kvLengths: null or per batch the number of valid keys.
     */
    public static Var attention(Var q, Var k, Var v, double scale, int[] kvLengths) {
        return Attention.apply(q, k, v, scale, kvLengths);
    }

    /** Attention with the usual scale 1/sqrt(D) and no mask. */
    public static Var attention(Var q, Var k, Var v) {
        return Attention.apply(q, k, v, 1.0 / Math.sqrt(q.size(-1)), null);
    }

    /**
     * Mixed-precision attention (scale 1/sqrt(D), no mask): q, k and v in one half dtype (BF16 or F16), the result
     * in that dtype too, as PyTorch's SDPA keeps it under autocast — the form the fused GPU kernels take — with the
     * softmax statistics (log-sum-exp) in fp32; the backward's tensors are BF16 for BF16, fp32 for F16 (no loss
     * scaling here: small F16 gradients would underflow).
     */
    public static Var attentionHalf(Var q, Var k, Var v) {
        return Attention.applyHalf(q, k, v, 1.0 / Math.sqrt(q.size(-1)));
    }

    /**
     * 3-D convolution x [N, I, T, H, W] * weight [O, I, kt, kh, kw] (+ bias [O] or null), stride {t, h, w}, zero
     * padding {front, back, top, bottom, left, right}; a 2-D convolution is kt = 1 with T = 1.
     */
    public static Var conv3d(Var x, Var weight, Var bias, int[] stride, int[] padding) {
        return Conv3dOp.apply(x, weight, bias, stride, padding);
    }

    public static Var concat(List<Var> xs, int dim) {
        return Concat.apply(xs, dim);
    }

    /**
     * A keep-mask of {@code shape}: 1 where uniform number i of stream (seed, offset) is &gt; p, else 0, so each
     * element survives with probability 1−p (spec training.md §2.3: {@code mask = rand > rank_dropout}).
     * Counter-based, hence identical on every backend and when a block is recomputed ({@link Recompute}).
     */
    public static Tensor keepMask(Tensor like, Shape shape, double p, long seed, long offset) {
        Tensor u = Tensor.empty(like.device(), TensorMath.computeType(like), shape.toArray());
        like.backend().randomUniform(u, seed, offset);
        Tensor mask = Tensor.empty(like.device(), u.dtype(), shape.toArray());
        like.backend().binaryScalar(BinaryOp.GT, u, p, mask);
        return mask;
    }

    /**
     * Inverted dropout (spec training.md §2.3): zeroes each element with probability p and scales survivors
     * by 1/(1−p). Identity when p is 0. The gradient is masked the same way.
     */
    public static Var dropout(Var x, double p, long seed, long offset) {
        if (p <= 0) {
            return x;
        }
        if (p >= 1) {
            throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
        }
        Tensor mask = keepMask(x.data(), x.shape(), p, seed, offset);
        x.data().backend().binaryScalar(BinaryOp.MUL, mask, 1.0 / (1.0 - p), mask);
        return x.mul(Var.constant(mask));
    }

    /** Inverted dropout drawing from this thread's {@link Rng} stream (replayed by {@link Recompute}). */
    public static Var dropout(Var x, double p) {
        if (p <= 0) {
            return x;
        }
        return dropout(x, p, Rng.currentSeed(), Rng.reserve(x.shape().numel()));
    }

    /** A keep-mask (see {@link #keepMask(Tensor, Shape, double, long, long)}) from this thread's {@link Rng} stream. */
    public static Tensor keepMask(Tensor like, Shape shape, double p) {
        return keepMask(like, shape, p, Rng.currentSeed(), Rng.reserve(shape.numel()));
    }

    /**
     * Mean squared error, optionally weighted per sample: {@code mean_i(w[b(i)] · (pred − target)²)} where
     * weights has shape [B] and broadcasts over the other dimensions (spec training.md §1.6: musubi multiplies
     * the unreduced loss by the weighting, then takes the mean). weights may be null.
     */
    public static Var mseLoss(Var pred, Var target, Var weights) {
        Var sq = square(pred.sub(target));
        if (weights != null) {
            if (weights.rank() != 1 || weights.size(0) != pred.size(0)) {
                throw new IllegalArgumentException("mse loss weights " + weights.shape() + ": expected [" + pred.size(0)
                    + "] (one per sample of " + pred.shape() + ")");
            }
            long[] dims = new long[pred.rank()];
            Arrays.fill(dims, 1);
            dims[0] = pred.size(0);
            sq = sq.mul(weights.reshape(dims));
        }
        return sq.mean();
    }

    /** Cast to {@code type}; gradients flow back in the input's gradient dtype. */
    public static Var cast(Var x, DType type) {
        return x.to(type);
    }

    /**
     * {@code x} unchanged, with {@code action} run when the backward pass reaches it ({@link BackwardHook}): after every
     * consumer of the result, before anything upstream of {@code x}. {@code x} itself when no graph is recorded.
     */
    public static Var onBackward(Var x, Runnable action) {
        return BackwardHook.apply(x, action);
    }
}
