package dev.loraid.autograd.optim;

import dev.loraid.autograd.Parameter;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Parameters sharing a learning rate and weight decay (PyTorch param groups; LoRA+ puts lora_up weights in a
 * group with a larger rate, spec training.md §2.5). {@link #lr()} is the current rate; {@link #baseLr()} the
 * one a schedule multiplies.
 */
public final class ParamGroup {
    private final String name;
    private final Map<String, Parameter> params;
    private final double baseLr;
    private final double weightDecay;
    private double lr;

    public ParamGroup(String name, Map<String, Parameter> params, double lr, double weightDecay) {
        this.name = name;
        this.params = new LinkedHashMap<>(params);
        this.baseLr = lr;
        this.lr = lr;
        this.weightDecay = weightDecay;
    }

    public String name() {
        return name;
    }

    /** Parameters by their dotted names (the keys of saved optimizer state). */
    public Map<String, Parameter> params() {
        return params;
    }

    public double baseLr() {
        return baseLr;
    }

    public double lr() {
        return lr;
    }

    public void setLr(double lr) {
        this.lr = lr;
    }

    public double weightDecay() {
        return weightDecay;
    }
}
