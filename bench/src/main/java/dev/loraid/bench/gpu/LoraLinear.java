package dev.loraid.bench.gpu;

import dev.loraid.tensor.Backend;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Device;
import dev.loraid.tensor.Tensor;

/**
 * A frozen linear layer with a rank-r LoRA: {@code y = x·Wᵀ + b + s·(x·Aᵀ)·Bᵀ}, computing in the activation dtype
 * (BF16 for the benchmark, F64 for the gradient check). The LoRA master weights and their gradients are fp32
 * (design.md, "Precision"; F64 in the check); each step computes with copies in the activation dtype, as
 * PyTorch's autocast does.
 */
final class LoraLinear {
    final Tensor weight;   // [out, in], frozen
    final Tensor bias;     // [out], frozen
    final Tensor loraA;    // [r, in], master
    final Tensor loraB;    // [out, r], master
    final Tensor gradA;
    final Tensor gradB;
    private final double scale;
    private final DType act;
    private Tensor a16;
    private Tensor b16;

    LoraLinear(Backend be, Device device, DType act, long in, long out, int rank, double scale, long seed) {
        this.scale = scale;
        this.act = act;
        DType master = act == DType.F64 ? DType.F64 : DType.F32;
        weight = init(be, Tensor.empty(device, act, out, in), seed, 1 / Math.sqrt(in));
        bias = init(be, Tensor.empty(device, act, out), seed + 1, 0.01);
        loraA = init(be, Tensor.empty(device, master, rank, in), seed + 2, 1 / Math.sqrt(in));
        // B is zero at the start of training; nonzero here so that every gradient path carries signal
        loraB = init(be, Tensor.empty(device, master, out, rank), seed + 3, 0.05);
        gradA = Tensor.zeros(device, master, rank, in);
        gradB = Tensor.zeros(device, master, out, rank);
    }

    static Tensor init(Backend be, Tensor t, long seed, double std) {
        be.randomNormal(t, seed, 0);
        be.binaryScalar(dev.loraid.tensor.BinaryOp.MUL, t, std, t);
        return t;
    }

    /** Copies of the LoRA weights in the activation dtype for this step (inside the step's memory scope). */
    void castForStep(Backend be) {
        a16 = Tensor.empty(loraA.device(), act, loraA.shape().toArray());
        b16 = Tensor.empty(loraB.device(), act, loraB.shape().toArray());
        be.copy(loraA, a16);
        be.copy(loraB, b16);
    }

    /** Forward: returns y [L, out]; {@code lowRank} receives x·Aᵀ [L, r] for the backward pass. */
    Tensor forward(Backend be, Tensor x, Tensor[] lowRank) {
        long l = x.size(0);
        Tensor y = Tensor.empty(x.device(), act, l, weight.size(0));
        be.matmul(x, weight.transpose(0, 1), y, 1, 0, bias);
        Tensor a = Tensor.empty(x.device(), act, l, a16.size(0));
        be.matmul(x, a16.transpose(0, 1), a, 1, 0, null);
        be.matmul(a, b16.transpose(0, 1), y, scale, 1, null);
        lowRank[0] = a;
        return y;
    }

    /**
     * Backward: LoRA gradients into gradA/gradB (overwritten), and dx = dy·W + s·(dy·B)·A written into dx
     * (or added to it when {@code accumulate}); dx may be null when no input gradient is wanted.
     */
    void backward(Backend be, Tensor x, Tensor lowRank, Tensor dy, Tensor dx, boolean accumulate) {
        long l = x.size(0);
        Tensor da = Tensor.empty(x.device(), act, l, a16.size(0));
        be.matmul(dy, b16, da, scale, 0, null);                                 // [L, r]
        be.matmul(dy.transpose(0, 1), lowRank, gradB, scale, 0, null);          // [out, r]
        be.matmul(da.transpose(0, 1), x, gradA, 1, 0, null);                    // [r, in]
        if (dx != null) {
            be.matmul(dy, weight, dx, 1, accumulate ? 1 : 0, null);             // [L, in]
            be.matmul(da, a16, dx, 1, 1, null);
        }
    }
}
