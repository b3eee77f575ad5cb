package dev.loraid.autograd.optim;

import dev.loraid.autograd.Parameter;
import dev.loraid.autograd.StateSource;
import dev.loraid.tensor.DType;
import dev.loraid.tensor.MemoryScope;
import dev.loraid.tensor.Shape;
import dev.loraid.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters from their accumulated gradients. State (moments, step counts) lives outside any memory
 * scope and is keyed by parameter name, so it can be saved and restored for resume ({@link #stateDict()}).
 */
public abstract class Optimizer {
    private final List<ParamGroup> groups;

    protected Optimizer(List<ParamGroup> groups) {
        this.groups = List.copyOf(groups);
        Map<String, String> seen = new LinkedHashMap<>();
        for (ParamGroup g : groups) {
            for (var e : g.params().entrySet()) {
                if (seen.put(e.getKey(), g.name()) != null) {
                    throw new IllegalArgumentException("parameter " + e.getKey() + " is in two optimizer groups");
                }
                if (!e.getValue().requiresGrad()) {
                    throw new IllegalArgumentException("parameter " + e.getKey() + " is frozen (requiresGrad false)");
                }
            }
        }
    }

    public List<ParamGroup> groups() {
        return groups;
    }

    /** One update of every parameter that has a gradient; parameters without one are skipped (PyTorch). */
    public abstract void step();

    /**
     * The rate the last {@link #step} applied to group {@code group}, as the run's log reports it: the group's
     * (scheduled) rate unless the optimizer sets its own per parameter ({@link Adafactor} with relative steps).
     */
    public double appliedLr(int group) {
        return groups.get(group).lr();
    }

    /**
     * Puts the parameters where training steps from. A no-op except for schedule-free optimizers
     * ({@link ScheduleFreeAdamW}), whose parameters hold another point between {@link #eval} and this call.
     */
    public void train() {
    }

    /** Puts the parameters at the point to evaluate, sample and save (see {@link #train}); a no-op by default. */
    public void eval() {
    }

    /** Zeroes every parameter's gradient (keeping the buffers). */
    public void zeroGrad() {
        for (ParamGroup g : groups) {
            g.params().values().forEach(Parameter::zeroGrad);
        }
    }

    /** Optimizer state by name ({@code <param>.<slot>}), for saving with the safetensors writer. */
    public abstract Map<String, Tensor> stateDict();

    /**
     * Restores state saved by {@link #stateDict()}. Every slot of every parameter must be present with the
     * parameter's shape; the error names each missing or mis-shaped key.
     */
    public abstract void loadStateDict(StateSource source);

    /**
     * Reads slot {@code key} of shape {@code shape} from {@code source}, or records why it cannot (missing,
     * mis-shaped) in {@code problems} and returns null.
     */
    protected static Tensor slot(StateSource source, String key, Shape shape, List<String> problems) {
        if (!source.keys().contains(key)) {
            problems.add(key + ": missing");
            return null;
        }
        Tensor t = source.get(key);
        if (!t.shape().equals(shape)) {
            problems.add(key + ": expected " + shape + ", got " + t.shape());
            return null;
        }
        return t;
    }

    protected static void failIfAny(List<String> problems, String what) {
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("cannot load " + what + " state: " + String.join("; ", problems));
        }
    }

    /** A persistent F32 tensor (outside any memory scope) of {@code shape}, zero-filled. */
    protected static Tensor persistentZeros(Parameter like) {
        try (MemoryScope outside = MemoryScope.suspend()) {
            return Tensor.zeros(like.data().device(), DType.F32, like.shape().toArray());
        }
    }

    /** The parameters with their names, across groups. */
    protected final List<Map.Entry<String, Parameter>> allParams() {
        List<Map.Entry<String, Parameter>> out = new ArrayList<>();
        for (ParamGroup g : groups) {
            out.addAll(g.params().entrySet());
        }
        return out;
    }
}
