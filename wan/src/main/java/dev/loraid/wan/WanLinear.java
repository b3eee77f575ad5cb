package dev.loraid.wan;

import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

/**
 * A frozen Linear of the checkpoint, {@code y = x·Wᵀ + b}, with W in its file dtype. fp8-scaled weights (spec
 * wan.md §3.3) carry a scale: one number goes into the GEMM's alpha, a per-row scale multiplies the output
 * columns (exact: row o of W only feeds output o), and a block-wise scale dequantises W for the call.
 */
final class WanLinear {
    final String name;
    final Tensor weight;
    final Tensor bias;
    private final Tensor scale;

    WanLinear(WanWeights w, String name, long in, long out) {
        this.name = name;
        this.weight = w.get(name + ".weight", out, in);
        this.bias = w.get(name + ".bias", out);
        this.scale = w.scaleOf(name);
        if (scale != null && !Fp8Scales.isValidScaleShape(scale.shape().toArray(), weight.shape().toArray())) {
            throw new IllegalArgumentException(w.source() + ": " + name + WanKeys.SCALE_SUFFIX + " has shape "
                    + scale.shape() + ", which does not fit the weight " + weight.shape());
        }
    }

    Tensor forward(Tensor x) {
        if (scale == null) {
            return WanOps.linear(x, weight, bias, 1.0);
        }
        if (scale.numel() == 1) {
            return WanOps.linear(x, weight, bias, scale.getDouble(0));
        }
        if (scale.rank() == 2) {
            Tensor y = WanOps.linear(x, weight, null, 1.0);
            x.backend().binary(BinaryOp.MUL, y, scale.view(1, -1), y);
            x.backend().binary(BinaryOp.ADD, y, bias, y);
            return y;
        }
        return WanOps.linear(x, dequantised(), bias, 1.0);
    }

    /** W = Wq · scale per block of 64 inputs, as F32, for one call (from the caller's memory scope). */
    private Tensor dequantised() {
        long out = weight.size(0);
        long blocks = scale.size(1);
        Tensor w = Tensor.empty(weight.device(), DType.F32, out, blocks, Fp8Scales.BLOCK);
        weight.backend().copy(weight.view(out, blocks, Fp8Scales.BLOCK), w);
        weight.backend().binary(BinaryOp.MUL, w, scale, w);
        return w.view(out, blocks * Fp8Scales.BLOCK);
    }
}
