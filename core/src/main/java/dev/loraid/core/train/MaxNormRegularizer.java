package dev.loraid.core.train;

import dev.loraid.core.lora.LoraAdapter;
import dev.loraid.tensor.BinaryOp;
import dev.loraid.tensor.Tensor;
import java.util.List;

/**
 * {@code --scale_weight_norms} (training.md §2.9): after each update, every module whose ΔW = scale·up·down has a
 * Frobenius norm above {@code maxNorm} gets both factors multiplied by √(maxNorm / ‖ΔW‖). The norm comes from the
 * r×r Gram matrices, ‖up·down‖² = Σ (upᵀup) ∘ (down·downᵀ), never from the full out×in product.
 */
public final class MaxNormRegularizer {
    private final List<LoraAdapter> adapters;
    private final double maxNorm;

    /** How many modules were scaled, and the mean and largest norm after scaling (upstream's log line). */
    public record Result(int scaled, double meanNorm, double maxNorm) {
    }

    public MaxNormRegularizer(List<LoraAdapter> adapters, double maxNorm) {
        this.adapters = List.copyOf(adapters);
        this.maxNorm = maxNorm;
    }

    public Result apply() {
        int scaled = 0;
        double sum = 0;
        double largest = 0;
        for (LoraAdapter a : adapters) {
            double norm = a.scale() * frobeniusOfProduct(a.up().data(), a.down().data(), a.rank());
            double n = Math.max(norm, maxNorm / 2);
            double desired = Math.min(n, maxNorm);
            double ratio = desired / n;
            if (ratio != 1.0) {
                double f = Math.sqrt(ratio);
                for (Tensor t : new Tensor[] {a.up().data(), a.down().data()}) {
                    t.backend().binaryScalar(BinaryOp.MUL, t, f, t);
                }
                scaled++;
            }
            double after = norm * ratio;
            sum += after;
            largest = Math.max(largest, after);
        }
        return new Result(scaled, adapters.isEmpty() ? 0 : sum / adapters.size(), largest);
    }

    /** ‖up·down‖_F for up [out, r] and down [r, in], through the r×r Gram matrices (in double). */
    static double frobeniusOfProduct(Tensor up, Tensor down, int r) {
        double[] u = up.toDoubleArray();
        double[] d = down.toDoubleArray();
        int out = u.length / r;
        int in = d.length / r;
        double total = 0;
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < r; j++) {
                double gu = 0; // (upᵀ up)[i, j]
                for (int o = 0; o < out; o++) {
                    gu += u[o * r + i] * u[o * r + j];
                }
                double gd = 0; // (down downᵀ)[i, j]
                for (int k = 0; k < in; k++) {
                    gd += d[i * in + k] * d[j * in + k];
                }
                total += gu * gd;
            }
        }
        return Math.sqrt(Math.max(0, total));
    }
}
