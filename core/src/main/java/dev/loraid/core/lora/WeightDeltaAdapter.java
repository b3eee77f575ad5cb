package dev.loraid.core.lora;

import dev.loraid.autograd.Ops;
import dev.loraid.autograd.Rng;
import dev.loraid.autograd.Var;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

/**
 * An adapter that builds its whole update ΔW [out, in] from its factors in every forward pass and adds
 * {@code multiplier · scale · x ΔWᵀ} to the layer's output, as upstream's LoHa and LoKr modules do (musubi
 * networks/loha.py, lokr.py; spec training.md §2.10). Module dropout skips the branch; rank dropout drops whole rows of
 * ΔW (one mask per forward, shared by the batch) and rescales by 1/(1 − p); upstream's LoHa/LoKr take no neuron
 * dropout. The scale is applied inside the GEMM that adds the branch, so ΔW itself stays unscaled.
 */
abstract class WeightDeltaAdapter implements NetworkAdapter {
    private final String loraName;
    private final double alpha;
    private final LoraAdapter.Dropouts dropouts;
    private double multiplier = 1.0;
    private boolean training;

    WeightDeltaAdapter(String loraName, double alpha, LoraAdapter.Dropouts dropouts) {
        this.loraName = loraName;
        this.alpha = alpha;
        this.dropouts = dropouts;
    }

    /** ΔW / scale, [out, in], a function of the trainable factors. */
    abstract Var unscaledDelta();

    /** The factor ΔW carries besides the multiplier. */
    abstract double scale();

    @Override
    public Var apply(Var x, Var baseOut) {
        if (multiplier == 0) {
            return baseOut;
        }
        // draws come from the thread's Rng stream, replayed when gradient checkpointing recomputes the block
        if (training && dropouts.module() > 0 && Rng.nextDouble() < dropouts.module()) {
            return baseOut;
        }
        Var delta = unscaledDelta();
        double s = multiplier * scale();
        if (training && dropouts.rank() > 0) {
            Tensor keep = Ops.keepMask(delta.data(), Shape.of(delta.size(0), 1), dropouts.rank());
            delta = delta.mul(Var.constant(keep));
            s /= 1 - dropouts.rank();
        }
        return Ops.linearAddInPlace(baseOut, x, delta, s); // the Linear hands its output over (Linear.Adapter)
    }

    @Override
    public String loraName() {
        return loraName;
    }

    @Override
    public double alpha() {
        return alpha;
    }

    @Override
    public double multiplier() {
        return multiplier;
    }

    @Override
    public void setMultiplier(double multiplier) {
        this.multiplier = multiplier;
    }

    @Override
    public void setTraining(boolean training) {
        this.training = training;
    }
}
