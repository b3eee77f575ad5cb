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

    /** One update's factors as fp32 matrices: U [out, r] and D [r, k], with k = the base weight's numel / out. */
    record Factors(Tensor up, Tensor down) {
        /** Copies of {@code m}'s factors in fp32 (allocated in the caller's {@link dev.loraid.tensor.MemoryScope}). */
        static Factors of(LoraModule m, long k) {
            long out = m.up().size(0);
            int rank = m.rank();
            return new Factors(m.up().to(DType.F32).reshape(out, rank), m.down().to(DType.F32).reshape(rank, k));
        }
    }

    /**
     * {@code w += factor · U @ D} through {@link dev.loraid.tensor.Backend#matmul} (fp32 accumulation), with
     * {@code w} an fp32 tensor of the base weight's shape, U viewed as [out, r] and D flattened to [r, w.numel/out].
     * Shapes must have passed {@link #checkShapes}.
     */
    public static void addTo(Tensor w, LoraModule m, double factor) {
        long out = m.up().size(0);
        long k = w.numel() / out;
        addRows(w.view(out, k), 0, Factors.of(m, k), factor);
    }

    /**
     * Rows {@code [first, first + rows.size(0))} of the update: {@code rows += factor · U[first..] @ D}, rows an fp32
     * [n, k] view. Each element gets the same GEMM arithmetic (one K = rank reduction, then {@code c + factor·sum})
     * however the rows are split, so a weight updated block by block has the bytes of one updated whole.
     */
    static void addRows(Tensor rows, long first, Factors f, double factor) {
        rows.backend().matmul(f.up().narrow(0, first, rows.size(0)), f.down(), rows, factor, 1.0, null);
    }
}
