package dev.loraid.core.merge;

import dev.loraid.core.LoraidException;
import dev.loraid.tensor.Shape;
import dev.loraid.core.lora.LoraModule;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.Tensor;
import java.util.Arrays;

/**
 * The weight update of one LoRA module, {@code ΔW = m · (alpha/r) · U @ D} (spec loraid.md REQ-MERGE-2), added to an
 * fp32 base weight. Every case of the spec is one matrix product: U as {@code [out, r]} (a trailing 1×1 dropped)
 * times D flattened to {@code [r, in·kh·kw]}, which for a k×k conv is exactly
 * {@code ΔW[o,i,y,x] = Σ_c U[o,c] · D[c,i,y,x]}.
 */
public final class LoraDelta {
    private LoraDelta() {
    }

    /**
     * The shape {@code U @ D} has for a base weight of {@code base}'s rank, or an error naming key, file and shapes.
     */
    public static void checkShapes(Shape base, Shape up, Shape down, String key, String file) {
        boolean upOk = up.rank() == 2 || (up.rank() == 4 && up.dim(2) == 1 && up.dim(3) == 1);
        boolean rankOk = down.rank() >= 2 && up.dim(1) == down.dim(0);
        if (!upOk || !rankOk) {
            throw new LoraidException(file + ": " + key + ": lora_up " + up + " and lora_down " + down
                    + " do not form a rank-r update (expected up [out, r] or [out, r, 1, 1], down [r, in, ...])");
        }
        long[] expect = new long[down.rank()];
        expect[0] = up.dim(0);
        for (int i = 1; i < down.rank(); i++) {
            expect[i] = down.dim(i);
        }
        long[] dims = expect;
        if (base.rank() == 2 && down.rank() == 4 && down.dim(2) == 1 && down.dim(3) == 1) {
            dims = Arrays.copyOf(expect, 2); // Linear base with 1×1-conv-shaped factors
        }
        if (!Shape.of(dims).equals(base)) {
            throw new LoraidException(file + ": " + key + ": LoRA update up " + up + " @ down " + down + " has shape "
                    + Shape.of(dims) + " but the base weight is " + base);
        }
    }

    /**
     * {@code w += factor · U @ D} through {@link dev.loraid.tensor.Backend#matmul} (fp32 accumulation), with
     * {@code w} an fp32 tensor of the base weight's shape, U viewed as [out, r] and D flattened to [r, w.numel/out].
     * Shapes must have passed {@link #checkShapes}.
     */
    public static void addTo(Tensor w, LoraModule m, double factor) {
        long out = m.up().size(0);
        int rank = m.rank();
        long k = w.numel() / out;
        Tensor up = m.up().to(DType.F32).reshape(out, rank);
        Tensor down = m.down().to(DType.F32).reshape(rank, k);
        w.backend().matmul(up, down, w.view(out, k), factor, 1.0, null);
    }
}
