package dev.loraid.wan.sample;

import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Tensor;

/** Linear combinations of latents (the whole solver arithmetic) and buffers that outlive a step's memory scope. */
final class Latents {
    private Latents() {
    }

    /** c0·a + c1·b, a new tensor in the current scope (a's dtype and device). */
    static Tensor combine(double c0, Tensor a, double c1, Tensor b) {
        Tensor out = Tensor.empty(a.device(), a.dtype(), a.shape().toArray());
        a.backend().addScaled(a, c0, b, c1, out);
        return out;
    }

    /** c0·a + c1·b + c2·c. */
    static Tensor combine(double c0, Tensor a, double c1, Tensor b, double c2, Tensor c) {
        Tensor out = combine(c0, a, c1, b);
        a.backend().addScaled(out, 1.0, c, c2, out);
        return out;
    }

    /** The x0 prediction of flow matching: m = x − σ·v. */
    static Tensor x0(Tensor x, double sigma, Tensor v) {
        return combine(1.0, x, -sigma, v);
    }

    /** A copy of {@code t} outside every memory scope (kept across steps). */
    static Tensor keep(Tensor t) {
        try (MemoryScope outside = MemoryScope.suspend()) {
            return t.copy();
        }
    }

    /** λ = log(α) − log(σ) with α = 1 − σ: −∞ at σ = 1, +∞ at σ = 0. */
    static double lambda(double sigma) {
        return Math.log(1 - sigma) - Math.log(sigma);
    }
}
