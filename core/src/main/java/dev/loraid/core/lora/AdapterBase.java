package dev.loraid.core.lora;

import dev.loraid.autograd.Rng;

/**
 * What every adapter of a {@link LoraNetwork} holds besides its tensors: its name, alpha and dropouts, the multiplier
 * it runs at and whether it is training (dropouts act only then).
 */
abstract class AdapterBase implements NetworkAdapter {
    private final String loraName;
    private final double alpha;
    private final LoraAdapter.Dropouts dropouts;
    private double multiplier = 1.0;
    private boolean training;

    AdapterBase(String loraName, double alpha, LoraAdapter.Dropouts dropouts) {
        this.loraName = loraName;
        this.alpha = alpha;
        this.dropouts = dropouts;
    }

    /**
     * Whether the branch is off in this forward pass: multiplier 0, or skipped by module dropout. The draw comes from the
     * thread's Rng stream, which Recompute replays when it recomputes a block: the recomputed forward then drops exactly
     * what the first one dropped, and the gradients stay right.
     */
    final boolean off() {
        return multiplier == 0 || (training && dropouts.module() > 0 && Rng.nextDouble() < dropouts.module());
    }

    /** Rank dropout's probability in this mode (0 when not training). */
    final double rankDropout() {
        return training ? dropouts.rank() : 0;
    }

    /** Neuron dropout's probability in this mode (0 when not training). */
    final double neuronDropout() {
        return training ? dropouts.neuron() : 0;
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
