package dev.loraid.wan;

import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.Var;
import dev.loraid.autograd.nn.Linear;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;

/**
 * A frozen Linear of the checkpoint, {@code y = x·Wᵀ + b}, with W in its file dtype — or musubi's fp8-scaled W
 * with its {@code scale_weight} buffer (spec wan.md §3.3): one number goes into the GEMM as a scale, a per-row
 * scale multiplies the output columns (exact: row o of W only feeds output o), and a block-wise scale
 * dequantises W to F32 for the call (from the caller's memory scope). A LoRA adapter attaches as to any Linear; a LoHa or
 * LoKr one folds its update into the dequantised weight ({@link #denseWeight()}).
 */
public final class WanLinear extends Linear {
    static final String SCALE = "scale_weight";
    private DType half;

    WanLinear(long in, long out) {
        this(in, out, true);
    }

    private WanLinear(long in, long out, boolean bias) {
        super(Parameter.declared(DType.F32, out, in), bias ? Parameter.declared(DType.F32, out) : null);
    }

    /** A frozen Linear with bias (the CLIP encoder's), with the same fp8-scale handling. */
    public static WanLinear withBias(long in, long out) {
        return new WanLinear(in, out, true);
    }

    /** A frozen Linear without bias (the UMT5 text encoder's projections), with the same fp8-scale handling. */
    public static WanLinear withoutBias(long in, long out) {
        return new WanLinear(in, out, false);
    }

    /** Declares the fp8 scale this weight comes with, so that loading adopts it under {@code <name>.scale_weight}. */
    public void expectScale(long[] shape) {
        registerBuffer(SCALE, Tensor.zeros(DType.F32, shape));
    }

    /**
     * Mixed precision (WanModel#setActivationDType): with {@code half} BF16 or F16, the input is cast to it and the
     * output written in it, the GEMM accumulating in fp32 (spec wan.md §2.11: "all Linear layers … bf16 in, bf16
     * out (fp32 accumulate inside the GEMM)"); null (the default) keeps the fp32 rule.
     */
    void setActivations(DType half) {
        this.half = half;
    }

    @Override
    public Var forward(Var x) {
        x = WanOps.activation(x, half);
        DType out = x.dtype() == half ? half : null;
        Var folded = adapter() == null ? null : adapter().foldedWeight(this);
        if (folded != null) {
            return Ops.linear(x, folded, bias(), out);
        }
        Tensor scale = buffer(SCALE);
        Var y = scale == null ? Ops.linear(x, weight(), bias(), out) : scaledBase(x, scale);
        if (out != null && y.dtype() != out) {
            y = Ops.cast(y, out); // the fp8-scaled forms scale in fp32
        }
        // the adapter takes the half-precision input; its sum stays in the layer's output dtype (LinearAdd)
        return adapter() == null ? y : adapter().apply(x, y);
    }

    private Var scaledBase(Var x, Tensor scale) {
        Tensor w = weight().data();
        if (scale.numel() == 1) {
            // one number, read on the host (toDoubleArray copies it back from a GPU)
            return withBias(Ops.linear(x, weight(), null).scale(scale.toDoubleArray()[0]));
        }
        if (scale.rank() == 2) {
            return withBias(Ops.linear(x, weight(), null).mul(Var.constant(scale.view(1, -1))));
        }
        return Ops.linear(x, denseWeight(), bias());
    }

    /** Without a scale the stored weight; with one, {@code Wq · scale} in F32 (from the caller's memory scope). */
    @Override
    public Var denseWeight() {
        Tensor scale = buffer(SCALE);
        if (scale == null) {
            return weight();
        }
        Tensor w = weight().data();
        long out = w.size(0);
        long blocks = scale.rank() == 3 ? scale.size(1) : 1; // block-wise [out, in/64, 1]; per row [out, 1]; one [1]
        long block = w.size(1) / blocks;
        Tensor deq = Tensor.empty(w.device(), DType.F32, out, blocks, block);
        w.backend().copy(w.view(out, blocks, block), deq);
        w.backend().binary(BinaryOp.MUL, deq, scale.numel() == 1 ? scale.view(1, 1, 1) : scale.view(out, blocks, 1), deq);
        return Var.constant(deq.view(out, blocks * block));
    }

    private Var withBias(Var y) {
        return bias() == null ? y : y.add(bias());
    }
}
