package dev.loraid.core.train;

import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Var;

/** The flow-matching objective on autograd values (spec training.md §1.1, §1.6; steps 3–6 of §0). */
public final class FlowMatching {
    private FlowMatching() {
    }

    /** noisy = (1 − σ)·x0 + σ·noise, one pass. */
    public static Var noisy(Var x0, Var noise, double sigma) {
        return Ops.addScaled(x0, 1 - sigma, noise, sigma);
    }

    /** The velocity target noise − x0. */
    public static Var target(Var x0, Var noise) {
        return noise.sub(x0);
    }

    /** mean(weight·(pred − target)²) over every element; the weight of one sample (§1.6). */
    public static Var loss(Var pred, Var target, double weight) {
        Var mse = Ops.mseLoss(pred, target, null);
        return weight == 1.0 ? mse : mse.scale(weight);
    }
}
